// The positions of the models a form has chosen (GPT-2's n_positions, max_position_embeddings elsewhere), so the form
// can refuse more new tokens than fit before a run starts. Models are inspected once typing pauses (inspections are
// cached for the session); a weights file or a model that does not load sets no limit (the run reports those).

import { inspectModel } from './inspections.ts';

/** The model with the fewest positions among those chosen. */
export interface PositionsLimit {
  reference: string;
  positions: number;
}

const weightsFile = /\.(safetensors|bin|pt|pth|ckpt)$/i;

/** How long typing must pause before a model is inspected. */
const settleMs = 400;

export class ModelPositions {
  /** The tightest limit of the chosen models; null until one has been inspected. */
  limit = $state<PositionsLimit | null>(null);

  /** Must be created while a component initialises: it follows `references` with an effect. */
  constructor(references: () => string[]) {
    $effect(() => {
      const chosen = references()
        .map((reference) => reference.trim())
        .filter((reference) => reference !== '' && !weightsFile.test(reference));
      let current = true;
      const timer = setTimeout(async () => {
        const outcomes = await Promise.all(chosen.map((reference) => inspectModel(reference)));
        let tightest: PositionsLimit | null = null;
        outcomes.forEach((outcome, index) => {
          if (outcome.ok && (!tightest || outcome.value.nCtx < tightest.positions))
            tightest = { reference: chosen[index]!, positions: outcome.value.nCtx };
        });
        if (current) this.limit = tightest;
      }, settleMs);
      return () => {
        current = false;
        clearTimeout(timer);
      };
    });
  }

  /** The most new tokens that fit after prompts of `promptTokens` tokens; null while the limit is unknown. */
  maxNewTokens(promptTokens: number): number | null {
    return this.limit ? Math.max(0, this.limit.positions - promptTokens) : null;
  }
}
