// Checks, before a run starts, that the longest prompt plus the tokens to generate fits the model's positions (GPT-2's
// n_positions, max_position_embeddings elsewhere). Past them GPT-2's position table has no row, and onnxruntime
// would fail mid-run with "Gather … indices element out of data bounds"; rotary models would run on untrained angles.

import { raise } from '../../shared/index.ts';
import type { AnyLoadedModel } from './load-model.ts';

/** A prompt by the number users count it with (the first prompt of a file is 1) and its length in tokens. */
export interface PromptLength {
  number: number;
  tokens: number;
}

/** How the front doors name the settings the advice is about. */
export interface PositionAdvice {
  /** Whether the run has one prompt (generate) or a prompt set (compare, intervene). */
  prompts: 'one' | 'set';
  /**
   * Set when the run cuts each prompt at --max-prompt-tokens (then adds `addedTokens`, the BOS): a prompt set may also
   * fit by cutting prompts shorter.
   */
  promptCut?: { addedTokens: number };
  /** What a prompt of the set is called where the run has more than one set (`F1 prompt`); default `prompt`. */
  promptName?: string;
}

/** config.json's name for the number of positions. */
export function positionsKeyOf(model: AnyLoadedModel): string {
  return model.architecture === 'gpt2' ? 'n_positions' : 'max_position_embeddings';
}

/** The longest of some tokenized prompts (the first of equal ones); `firstNumber` is the number of the first. */
export function longestPrompt(prompts: readonly (readonly number[])[], firstNumber = 1): PromptLength | null {
  let longest: PromptLength | null = null;
  prompts.forEach((ids, index) => {
    if (!longest || ids.length > longest.tokens) longest = { number: firstNumber + index, tokens: ids.length };
  });
  return longest;
}

/**
 * Refuses (INPUT_INVALID, field maxNewTokens) a run whose longest prompt plus `maxNewTokens` does not fit the
 * positions of every model it uses; the message names the limit and the prompt, the hint what to lower to what.
 */
export function assertGenerationFits(
  models: readonly AnyLoadedModel[],
  longest: PromptLength,
  maxNewTokens: number,
  advice: PositionAdvice,
): void {
  const tightest = models.reduce((smallest, model) => (model.config.nCtx < smallest.config.nCtx ? model : smallest));
  const positions = tightest.config.nCtx;
  const needed = longest.tokens + maxNewTokens;
  if (needed <= positions) return;

  const limit = `${tightest.resolved.reference} has ${positions} positions (${positionsKeyOf(tightest)} in its config.json)`;
  const name = advice.promptName ?? 'prompt';
  const prompt = advice.prompts === 'one' ? 'the prompt' : `${name} ${longest.number}`;
  const message =
    advice.prompts === 'one'
      ? `The prompt is ${longest.tokens} tokens and ${maxNewTokens} new tokens are asked for: ${needed} positions, but ${limit}.`
      : `The longest ${name}, ${prompt}, is ${longest.tokens} tokens and ${maxNewTokens} new tokens are asked for: ${needed} positions, but ${limit}.`;
  const newTokensThatFit = positions - longest.tokens;
  const cut = advice.promptCut;
  const promptTokensThatFit = cut ? positions - maxNewTokens - cut.addedTokens : 0;
  const advise = (parts: (string | false)[]) => {
    const text = parts.filter((part): part is string => part !== false).join(', or ');
    return `${text[0]!.toUpperCase()}${text.slice(1)}.`;
  };
  const hint = advise([
    newTokensThatFit >= 1 && `lower --max-new-tokens to ${newTokensThatFit}`,
    `shorten ${prompt}`,
    cut !== undefined &&
      promptTokensThatFit >= 1 &&
      `cut every prompt to ${promptTokensThatFit} tokens with --max-prompt-tokens ${promptTokensThatFit}`,
  ]);
  // The app's forms cut prompts at a fixed length, so they only offer the new tokens and the prompt itself.
  const appHint = advise([
    newTokensThatFit >= 1 &&
      `lower “New tokens${advice.prompts === 'one' ? '' : ' per prompt'}” to ${newTokensThatFit}`,
    advice.prompts === 'one' ? 'shorten the prompt' : `shorten ${prompt} in its file`,
  ]);
  raise('INPUT_INVALID', message, hint, { field: 'maxNewTokens', appHint });
}
