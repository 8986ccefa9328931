// The check that a prompt plus its new tokens fits the model's positions: the message names the limit and the
// longest prompt, the hints say what to lower to what, in the command line's words and in the app's.

import { describe, expect, it } from 'vitest';
import type { AnyLoadedModel } from '../../../src-main/core/models/load-model.ts';
import { assertGenerationFits, longestPrompt } from '../../../src-main/core/models/position-limit.ts';
import { raisedBy as refusal } from '../../support/app-error.ts';

/** Just what the check reads of a loaded model. */
function modelWith(reference: string, architecture: string, nCtx: number): AnyLoadedModel {
  return { architecture, config: { nCtx }, resolved: { reference } } as unknown as AnyLoadedModel;
}

const gpt2 = modelWith('demo:gpt2-base', 'gpt2', 128);

describe('longestPrompt', () => {
  it('numbers prompts from 1 (or from where a chunk starts) and keeps the first of equals', () => {
    expect(longestPrompt([[1], [1, 2, 3], [4, 5, 6], [7]])).toEqual({ number: 2, tokens: 3 });
    expect(longestPrompt([[1], [1, 2]], 257)).toEqual({ number: 258, tokens: 2 });
    expect(longestPrompt([])).toBeNull();
  });
});

describe('assertGenerationFits', () => {
  it('lets a run that fits exactly through', () => {
    expect(() => assertGenerationFits([gpt2], { number: 1, tokens: 28 }, 100, { prompts: 'set' })).not.toThrow();
  });

  it('names the limit, the longest prompt and the new tokens that fit, as an input error about maxNewTokens', () => {
    const error = refusal(() =>
      assertGenerationFits([gpt2], { number: 17, tokens: 33 }, 256, {
        prompts: 'set',
        promptCut: { addedTokens: 1 },
      }),
    );
    expect(error).toMatchObject({ code: 'INPUT_INVALID', field: 'maxNewTokens' });
    expect(error.message).toBe(
      'The longest prompt, prompt 17, is 33 tokens and 256 new tokens are asked for: 289 positions, but demo:gpt2-base has 128 positions (n_positions in its config.json).',
    );
    expect(error.hint).toBe('Lower --max-new-tokens to 95, or shorten prompt 17.');
    expect(error.appHint).toBe('Lower “New tokens per prompt” to 95, or shorten prompt 17 in its file.');
  });

  it('offers a shorter prompt cut when the new tokens alone fit, and names the tightest model', () => {
    const llama = modelWith('org/llama', 'llama', 64);
    const error = refusal(() =>
      assertGenerationFits([gpt2, llama], { number: 3, tokens: 33 }, 40, {
        prompts: 'set',
        promptCut: { addedTokens: 1 },
      }),
    );
    expect(error.message).toMatch(/org\/llama has 64 positions \(max_position_embeddings in its config\.json\)/);
    expect(error.hint).toBe(
      'Lower --max-new-tokens to 31, or shorten prompt 3, or cut every prompt to 23 tokens with --max-prompt-tokens 23.',
    );
  });

  it('words a single prompt as "the prompt" and leaves out a new-token count that cannot fit', () => {
    const error = refusal(() => assertGenerationFits([gpt2], { number: 1, tokens: 130 }, 4, { prompts: 'one' }));
    expect(error.message).toBe(
      'The prompt is 130 tokens and 4 new tokens are asked for: 134 positions, but demo:gpt2-base has 128 positions (n_positions in its config.json).',
    );
    expect(error.hint).toBe('Shorten the prompt.');
  });
});
