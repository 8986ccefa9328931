// The one tokenizer interface every caller uses (GPT-2, BART, Llama, Mistral, Gemma, Qwen2, BERT, RoBERTa alike).
// Encoding and decoding run in Hugging Face's `tokenizers` library off the JS thread, so they are async: callers
// with many texts use the batch forms, which cost one round trip instead of one per text.

/** Ids of the tokens with a role, from tokenizer_config.json / special_tokens_map.json or the usual names. */
export interface SpecialTokenIds {
  bos: number | null;
  eos: number | null;
  pad: number | null;
  unk: number | null;
  mask: number | null;
}

export interface EncodeOptions {
  /**
   * Apply the post-processor, as `tokenizer(text)` does in transformers (default true): BOS for Llama, Mistral and
   * Gemma, [CLS] … [SEP] for BERT, <s> … </s> for BART and RoBERTa, nothing for GPT-2 and Qwen2.
   */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Leave out special added tokens (<s>, <|endoftext|>, [CLS], …); default false. */
  skipSpecialTokens?: boolean;
}

export interface Tokenizer {
  /** Largest id + 1 over the vocabulary and the added tokens: what config.json's vocab_size must cover. */
  readonly vocabSize: number;
  readonly specialIds: SpecialTokenIds;
  encode(text: string, options?: EncodeOptions): Promise<number[]>;
  /** One call for many texts (one thread hop, parallel inside the library); ids per text, in order. */
  encodeBatch(texts: readonly string[], options?: EncodeOptions): Promise<number[][]>;
  decode(ids: readonly number[], options?: DecodeOptions): Promise<string>;
  decodeBatch(rows: readonly (readonly number[])[], options?: DecodeOptions): Promise<string[]>;
  /** A token as the vocabulary spells it (`ĠHello`, `▁Hello`, `##llo`, `<0xF0>`), '' for an id it lacks. */
  tokenText(id: number): string;
  /** tokenText for each id. */
  tokens(ids: readonly number[]): string[];
  /** The id of a vocabulary entry or added token, spelled as the vocabulary spells it. */
  tokenToId(token: string): number | undefined;
}
