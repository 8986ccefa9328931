// The only module that imports Hugging Face's `tokenizers` (its napi-rs Node binding): a tokenizer.json string
// becomes a Tokenizer whose encode/decode are the library's own. Everything else talks to tokenizer.ts.

import { createRequire } from 'node:module';
import type * as Hf from 'tokenizers';
import type { DecodeOptions, EncodeOptions, SpecialTokenIds, Tokenizer } from './tokenizer.ts';

// Not named `require`: the bundle would clash with the CommonJS global it declares for other modules.
const nodeRequire = createRequire(import.meta.url);
let binding: typeof Hf | null = null;

/**
 * The native binding, loaded on first use so that a thread that never tokenizes never loads it. CommonJS with a
 * native binding: require keeps it external in every bundle, as for onnxruntime-node.
 */
function tokenizers(): typeof Hf {
  return (binding ??= nodeRequire('tokenizers') as typeof Hf);
}

class HfTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly specialIds: SpecialTokenIds;
  readonly #tokenizer: Hf.Tokenizer;

  constructor(tokenizer: Hf.Tokenizer, vocabSize: number, specialIds: SpecialTokenIds) {
    this.#tokenizer = tokenizer;
    this.vocabSize = vocabSize;
    this.specialIds = specialIds;
  }

  async encode(text: string, options: EncodeOptions = {}): Promise<number[]> {
    const encoding = await this.#tokenizer.encode(text, null, {
      addSpecialTokens: options.addSpecialTokens ?? true,
    });
    return encoding.getIds();
  }

  async encodeBatch(texts: readonly string[], options: EncodeOptions = {}): Promise<number[][]> {
    if (texts.length === 0) return [];
    const encodings = await this.#tokenizer.encodeBatch([...texts], {
      addSpecialTokens: options.addSpecialTokens ?? true,
    });
    return encodings.map((encoding) => encoding.getIds());
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): Promise<string> {
    return this.#tokenizer.decode([...ids], options.skipSpecialTokens ?? false);
  }

  async decodeBatch(rows: readonly (readonly number[])[], options: DecodeOptions = {}): Promise<string[]> {
    if (rows.length === 0) return [];
    return this.#tokenizer.decodeBatch(
      rows.map((ids) => [...ids]),
      options.skipSpecialTokens ?? false,
    );
  }

  tokenText(id: number): string {
    return this.#tokenizer.idToToken(id) ?? '';
  }

  tokens(ids: readonly number[]): string[] {
    return ids.map((id) => this.tokenText(id));
  }

  tokenToId(token: string): number | undefined {
    return this.#tokenizer.tokenToId(token) ?? undefined;
  }
}

/** The library's tokenizer, opaque outside this module. */
export type LibraryTokenizer = Hf.Tokenizer;

/** Reads the text of a tokenizer.json; throws the library's own error for one it cannot read. */
export function parseTokenizerJson(json: string): LibraryTokenizer {
  return tokenizers().Tokenizer.fromString(json);
}

export function wrapTokenizer(tokenizer: LibraryTokenizer, vocabSize: number, specialIds: SpecialTokenIds): Tokenizer {
  return new HfTokenizer(tokenizer, vocabSize, specialIds);
}
