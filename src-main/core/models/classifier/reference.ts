// A slow, readable TypeScript forward pass of BertForSequenceClassification / RobertaForSequenceClassification in
// eval mode (modeling_bert.py, modeling_roberta.py), the reference the ONNX graph is checked against on tiny models.
// Plain loops, float64 accumulators, one sequence at a time (right padding allowed: masked keys are never attended).

import type { ClassifierActivation, ClassifierConfig } from './config.ts';
import { gelu, layerNorm, linear, type Vector } from '../reference-math.ts';

type Weights = Map<string, Float32Array>;

/**
 * Position ids as Hugging Face makes them. BERT: 0, 1, 2, … RoBERTa (create_position_ids_from_input_ids): each
 * non-pad token gets pad_token_id + its count of non-pad tokens so far, every pad token gets pad_token_id.
 */
export function classifierPositionIds(config: ClassifierConfig, ids: number[]): number[] {
  if (config.architecture === 'bert') return ids.map((_, position) => position);
  let seen = 0;
  return ids.map((id) => (id === config.padTokenId ? config.padTokenId : config.padTokenId + ++seen));
}

/** The activation over one row of logits. */
export function applyActivation(activation: ClassifierActivation, logits: ArrayLike<number>): Float64Array {
  const values = Float64Array.from(logits);
  if (activation === 'sigmoid') return values.map((z) => 1 / (1 + Math.exp(-z)));
  const max = Math.max(...values);
  const exps = values.map((z) => Math.exp(z - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

export interface ClassifierReferenceOutputs {
  positionIds: number[];
  /** The last layer's residual stream. */
  hidden: Vector[]; // [pos][d_model]
  /** All of the head's outputs. */
  logits: Vector; // [n_outputs]
  probabilities: Vector; // [n_outputs]
}

/** One sequence (`attentionMask` 1 = real token, 0 = padding; all ones when omitted). */
export function classifierReferenceForward(
  config: ClassifierConfig,
  activation: ClassifierActivation,
  weights: Weights,
  ids: number[],
  attentionMask: number[] = ids.map(() => 1),
): ClassifierReferenceOutputs {
  const W = (name: string) =>
    weights.get(name) ??
    (() => {
      throw new RangeError(`missing weight ${name}`);
    })();
  const { dModel, dHead, nHeads, layerNormEps: eps } = config;
  const positionIds = classifierPositionIds(config, ids);

  // Embeddings: word + token type 0 (a single text), then + position, then LayerNorm (BertEmbeddings.forward).
  let x = ids.map((id, p) => {
    const row = new Float64Array(dModel);
    for (let d = 0; d < dModel; d++)
      row[d] =
        W('embed.W_E')[id * dModel + d]! + W('embed.W_type')[d]! + W('embed.W_pos')[positionIds[p]! * dModel + d]!;
    return layerNorm(row, W('embed.ln.w'), W('embed.ln.b'), eps);
  });

  for (let layer = 0; layer < config.nLayers; layer++) {
    const block = `blocks.${layer}`;
    const project = (name: string) =>
      x.map((row) => linear(row, W(`${block}.attn.W_${name}`), W(`${block}.attn.b_${name}`)));
    const [q, k, v] = [project('Q'), project('K'), project('V')];
    const mixed = q.map((query) => {
      const out = new Float64Array(dModel);
      for (let head = 0; head < nHeads; head++) {
        const offset = head * dHead;
        // scores / √d_head, masked keys excluded (Hugging Face adds finfo.min: their weight is exactly 0).
        const scores = k.map((key, j) => {
          if (attentionMask[j] !== 1) return -Infinity;
          let dot = 0;
          for (let d = 0; d < dHead; d++) dot += query[offset + d]! * key[offset + d]!;
          return dot / Math.sqrt(dHead);
        });
        const max = Math.max(...scores);
        const exps = scores.map((score) => Math.exp(score - max));
        const sum = exps.reduce((a, b) => a + b, 0);
        exps.forEach((e, j) => {
          for (let d = 0; d < dHead; d++) out[offset + d]! += (e / sum) * v[j]![offset + d]!;
        });
      }
      return out;
    });
    // Post-LN: LayerNorm(x + attention), then LayerNorm(x + MLP).
    x = x.map((row, p) => {
      const attended = linear(mixed[p]!, W(`${block}.attn.W_O`), W(`${block}.attn.b_O`));
      return layerNorm(
        row.map((value, d) => value + attended[d]!),
        W(`${block}.ln_attn.w`),
        W(`${block}.ln_attn.b`),
        eps,
      );
    });
    x = x.map((row) => {
      const post = linear(row, W(`${block}.mlp.W_in`), W(`${block}.mlp.b_in`)).map(gelu);
      const out = linear(post, W(`${block}.mlp.W_out`), W(`${block}.mlp.b_out`));
      return layerNorm(
        row.map((value, d) => value + out[d]!),
        W(`${block}.ln_mlp.w`),
        W(`${block}.ln_mlp.b`),
        eps,
      );
    });
  }

  // Head on the first token ([CLS] / <s>): BERT's pooler then classifier, RoBERTa's dense then out_proj.
  const pooled = linear(x[0]!, W('head.W_dense'), W('head.b_dense')).map(Math.tanh);
  const logits = linear(pooled, W('head.W_out'), W('head.b_out'));
  return { positionIds, hidden: x, logits, probabilities: applyActivation(activation, logits) };
}
