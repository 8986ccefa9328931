// A slow, readable byte-level BPE (GPT-2, RoBERTa, BART), ToxScope's tokenizer before it moved onto Hugging Face's
// `tokenizers`, kept as the reference the library is checked against and as the tokenizer benchmark's baseline:
// GPT-2's pre-tokeniser, the byte↔unicode table, merges by rank, added tokens split out first (with lstrip/rstrip).

/** A token that is matched in raw text before BPE (e.g. `<|endoftext|>`, `<mask>`). */
export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
  /** Absorb whitespace on the left (BART's `<mask>`). */
  lstrip: boolean;
  rstrip: boolean;
}

export interface SpecialTokenIds {
  bos: number | null;
  eos: number | null;
  pad: number | null;
  unk: number | null;
  mask: number | null;
}

export interface TokenizerSpec {
  vocab: Map<string, number>;
  /** Merge pairs in rank order, each "left right". */
  merges: [string, string][];
  addedTokens: AddedToken[];
  specialIds: SpecialTokenIds;
  /** Wrap encodings in BOS … EOS (BART/RoBERTa) when special tokens are added. */
  template: 'none' | 'bos-eos';
}

/** GPT-2's pre-tokenisation: contractions, letter runs, number runs, other runs, whitespace (kept before a word). */
const pretokenizePattern = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** GPT-2's reversible map from bytes to printable unicode characters. */
function byteToUnicodeTable(): string[] {
  const printable: number[] = [];
  for (let code = 0x21; code <= 0x7e; code++) printable.push(code);
  for (let code = 0xa1; code <= 0xac; code++) printable.push(code);
  for (let code = 0xae; code <= 0xff; code++) printable.push(code);
  const table = new Array<string>(256);
  let extra = 0;
  for (let byte = 0; byte < 256; byte++) {
    table[byte] = String.fromCodePoint(printable.includes(byte) ? byte : 256 + extra++);
  }
  return table;
}

const byteToUnicode = byteToUnicodeTable();
const unicodeToByte = new Map(byteToUnicode.map((character, byte) => [character, byte]));

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface EncodeOptions {
  /** Add BOS/EOS per the model's template (BART); GPT-2's template adds nothing. Default true. */
  addSpecialTokens?: boolean;
}

export class ByteLevelBpeTokenizer {
  readonly spec: TokenizerSpec;
  readonly vocabSize: number;
  readonly #ranks: Map<string, number>;
  readonly #idToToken: Map<number, string>;
  readonly #addedByContent: Map<string, AddedToken>;
  readonly #addedPattern: RegExp | null;
  readonly #cache = new Map<string, number[]>();

  constructor(spec: TokenizerSpec) {
    this.spec = spec;
    this.#ranks = new Map(spec.merges.map(([left, right], rank) => [`${left} ${right}`, rank]));
    this.#idToToken = new Map([...spec.vocab].map(([token, id]) => [id, token]));
    for (const added of spec.addedTokens) this.#idToToken.set(added.id, added.content);
    this.#addedByContent = new Map(spec.addedTokens.map((added) => [added.content, added]));
    const contents = spec.addedTokens.map((added) => added.content).sort((a, b) => b.length - a.length);
    this.#addedPattern = contents.length ? new RegExp(contents.map(escapeRegExp).join('|'), 'g') : null;
    this.vocabSize = Math.max(...this.#idToToken.keys()) + 1;
  }

  tokenToId(token: string): number | undefined {
    return this.#addedByContent.get(token)?.id ?? this.spec.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.#idToToken.get(id);
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const ids: number[] = [];
    for (const piece of this.#splitAddedTokens(text)) {
      if (typeof piece === 'number') ids.push(piece);
      else for (const word of piece.match(pretokenizePattern) ?? []) ids.push(...this.#encodeWord(word));
    }
    const { bos, eos } = this.spec.specialIds;
    if ((options.addSpecialTokens ?? true) && this.spec.template === 'bos-eos' && bos !== null && eos !== null) {
      return [bos, ...ids, eos];
    }
    return ids;
  }

  /** Token strings for ids, as the vocabulary spells them (Ġ for a leading space). */
  tokens(ids: number[]): string[] {
    return ids.map((id) => this.#idToToken.get(id) ?? '');
  }

  decode(ids: number[], options: { skipSpecialTokens?: boolean } = {}): string {
    const specialIds = new Set(this.spec.addedTokens.filter((added) => added.special).map((added) => added.id));
    let text = '';
    let bytes: number[] = [];
    const flush = () => {
      // ignoreBOM keeps a leading U+FEFF, as Hugging Face decodes it (ToxScope's own decoder used to drop it).
      text += new TextDecoder('utf-8', { ignoreBOM: true }).decode(Uint8Array.from(bytes));
      bytes = [];
    };
    for (const id of ids) {
      if (options.skipSpecialTokens && specialIds.has(id)) continue;
      const added = this.spec.addedTokens.find((candidate) => candidate.id === id);
      if (added) {
        flush();
        text += added.content;
        continue;
      }
      for (const character of this.#idToToken.get(id) ?? '') {
        const byte = unicodeToByte.get(character);
        if (byte !== undefined) bytes.push(byte);
      }
    }
    flush();
    return text;
  }

  /** Splits raw text into plain pieces and added-token ids, honouring each added token's lstrip/rstrip. */
  #splitAddedTokens(text: string): (string | number)[] {
    if (!this.#addedPattern) return text ? [text] : [];
    const pieces: (string | number)[] = [];
    let cursor = 0;
    for (const match of text.matchAll(this.#addedPattern)) {
      const added = this.#addedByContent.get(match[0])!;
      let start = match.index;
      let end = start + match[0].length;
      if (added.lstrip) while (start > cursor && /\s/.test(text[start - 1]!)) start--;
      if (added.rstrip) while (end < text.length && /\s/.test(text[end]!)) end++;
      if (start > cursor) pieces.push(text.slice(cursor, start));
      pieces.push(added.id);
      cursor = end;
    }
    if (cursor < text.length) pieces.push(text.slice(cursor));
    return pieces;
  }

  #encodeWord(word: string): number[] {
    const cached = this.#cache.get(word);
    if (cached) return cached;
    let symbols = Array.from(new TextEncoder().encode(word), (byte) => byteToUnicode[byte]!);
    while (symbols.length > 1) {
      let bestRank = Infinity;
      let bestIndex = -1;
      for (let index = 0; index + 1 < symbols.length; index++) {
        const rank = this.#ranks.get(`${symbols[index]} ${symbols[index + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          bestIndex = index;
        }
      }
      if (bestIndex < 0) break;
      // Merge every occurrence of the best pair, left to right, as the reference implementation does.
      const [left, right] = [symbols[bestIndex]!, symbols[bestIndex + 1]!];
      const merged: string[] = [];
      for (let index = 0; index < symbols.length; index++) {
        if (index + 1 < symbols.length && symbols[index] === left && symbols[index + 1] === right) {
          merged.push(left + right);
          index++;
        } else merged.push(symbols[index]!);
      }
      symbols = merged;
    }
    const ids = symbols.map((symbol) => {
      const id = this.spec.vocab.get(symbol);
      if (id !== undefined) return id;
      const unk = this.spec.specialIds.unk;
      if (unk === null)
        throw new RangeError(`token "${symbol}" is not in the vocabulary and the tokenizer has no unk token`);
      return unk;
    });
    if (this.#cache.size < 100_000) this.#cache.set(word, ids);
    return ids;
  }
}

/**
 * The reference tokenizer for a vocab.json + merges.txt, as ToxScope read such folders before: GPT-2 style (its
 * <|endoftext|> as the one added token, nothing around encodings) or BART style (<s> <pad> </s> <unk> <mask> added,
 * <mask> absorbing whitespace on its left, encodings wrapped in <s> … </s>).
 */
export function referenceByteLevelTokenizer(
  vocab: Record<string, number>,
  mergesText: string,
  style: 'gpt2' | 'bart',
): ByteLevelBpeTokenizer {
  const merges = mergesText
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#version'))
    .map((line): [string, string] => {
      const space = line.indexOf(' ');
      return [line.slice(0, space), line.slice(space + 1)];
    });
  const id = (token: string) => vocab[token] ?? null;
  const specialIds: SpecialTokenIds =
    style === 'gpt2'
      ? { bos: id('<|endoftext|>'), eos: id('<|endoftext|>'), pad: null, unk: id('<|endoftext|>'), mask: null }
      : { bos: id('<s>'), eos: id('</s>'), pad: id('<pad>'), unk: id('<unk>'), mask: id('<mask>') };
  const addedTokens: AddedToken[] = [];
  for (const [role, tokenId] of Object.entries(specialIds) as [keyof SpecialTokenIds, number | null][]) {
    if (tokenId === null || addedTokens.some((added) => added.id === tokenId)) continue;
    const content = Object.keys(vocab).find((token) => vocab[token] === tokenId)!;
    addedTokens.push({ id: tokenId, content, special: true, lstrip: role === 'mask', rstrip: false });
  }
  return new ByteLevelBpeTokenizer({
    vocab: new Map(Object.entries(vocab)),
    merges,
    addedTokens,
    specialIds,
    template: style === 'bart' ? 'bos-eos' : 'none',
  });
}
