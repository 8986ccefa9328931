// A slow, readable TypeScript BART forward pass (encoder, then a teacher-forced decoder), the reference the ONNX
// graphs are checked against on tiny models. Plain loops, float64 accumulators; one sequence at a time.

import { bartPositionOffset, type BartConfig } from './config.ts';
import { gelu, layerNorm, linear, type Vector } from '../reference-math.ts';

type Weights = Map<string, Float32Array>;

function attention(
  config: BartConfig,
  queries: Vector[],
  keysFrom: Vector[],
  visible: (query: number, key: number) => boolean,
  W: (name: string) => Float32Array,
  prefix: string,
): Vector[] {
  const { dModel, dHead } = config;
  const q = queries.map((x) => linear(x, W(`${prefix}.W_Q`), W(`${prefix}.b_Q`)));
  const k = keysFrom.map((x) => linear(x, W(`${prefix}.W_K`), W(`${prefix}.b_K`)));
  const v = keysFrom.map((x) => linear(x, W(`${prefix}.W_V`), W(`${prefix}.b_V`)));
  return q.map((query, i) => {
    const mixed = new Float64Array(dModel);
    for (let head = 0; head < config.encoderHeads; head++) {
      const offset = head * dHead;
      const scores = k.map((key, j) => {
        if (!visible(i, j)) return -Infinity;
        let dot = 0;
        for (let d = 0; d < dHead; d++) dot += query[offset + d]! * key[offset + d]!;
        return dot / Math.sqrt(dHead);
      });
      const max = Math.max(...scores);
      const exps = scores.map((score) => (max === -Infinity ? 1 : Math.exp(score - max)));
      const sum = exps.reduce((a, b) => a + b, 0);
      exps.forEach((e, j) => {
        for (let d = 0; d < dHead; d++) mixed[offset + d]! += (e / sum) * v[j]![offset + d]!;
      });
    }
    return linear(mixed, W(`${prefix}.W_O`), W(`${prefix}.b_O`));
  });
}

function embed(config: BartConfig, W: (name: string) => Float32Array, side: string, ids: number[]): Vector[] {
  const { dModel } = config;
  return ids.map((id, position) => {
    const x = new Float64Array(dModel);
    for (let d = 0; d < dModel; d++)
      x[d] =
        W('shared.W_E')[id * dModel + d]! * config.embedScale +
        W(`${side}.pos_embed`)[(position + bartPositionOffset) * dModel + d]!;
    return layerNorm(x, W(`${side}.ln_embed.w`), W(`${side}.ln_embed.b`), config.layerNormEps);
  });
}

function mlp(
  config: BartConfig,
  W: (name: string) => Float32Array,
  block: string,
  xs: Vector[],
  record: (name: string, values: Vector[]) => void,
): Vector[] {
  const posts = xs.map((x) => linear(x, W(`${block}.mlp.W_in`), W(`${block}.mlp.b_in`)).map(gelu));
  record(`${block}.mlp.hook_post`, posts);
  return xs.map((x, p) => {
    const out = linear(posts[p]!, W(`${block}.mlp.W_out`), W(`${block}.mlp.b_out`));
    return layerNorm(
      x.map((value, d) => value + out[d]!),
      W(`${block}.ln_mlp.w`),
      W(`${block}.ln_mlp.b`),
      config.layerNormEps,
    );
  });
}

export interface BartReferenceOutputs {
  encoderHidden: Vector[]; // [src][d_model]
  decoderHidden: Vector[]; // [tgt][d_model]
  logits: Vector[]; // [tgt][d_vocab]
  hooks: Map<string, Vector[]>;
}

/** One sequence: encoder over `inputIds` (mask = real tokens), decoder teacher-forced on `decoderIds`. */
export function bartReferenceForward(
  config: BartConfig,
  weights: Weights,
  inputIds: number[],
  attentionMask: number[],
  decoderIds: number[],
): BartReferenceOutputs {
  const W = (name: string) =>
    weights.get(name) ??
    (() => {
      throw new RangeError(`missing weight ${name}`);
    })();
  const hooks = new Map<string, Vector[]>();
  const record = (name: string, values: Vector[]) => hooks.set(name, values);
  let x = embed(config, W, 'encoder', inputIds);
  for (let layer = 0; layer < config.encoderLayers; layer++) {
    const block = `encoder.blocks.${layer}`;
    const attended = attention(config, x, x, (_, j) => attentionMask[j] === 1, W, `${block}.attn`);
    x = x.map((value, p) =>
      layerNorm(
        value.map((v, d) => v + attended[p]![d]!),
        W(`${block}.ln_attn.w`),
        W(`${block}.ln_attn.b`),
        config.layerNormEps,
      ),
    );
    x = mlp(config, W, block, x, record);
  }
  let y = embed(config, W, 'decoder', decoderIds);
  for (let layer = 0; layer < config.decoderLayers; layer++) {
    const block = `decoder.blocks.${layer}`;
    const self = attention(config, y, y, (i, j) => j <= i, W, `${block}.attn`);
    y = y.map((value, p) =>
      layerNorm(
        value.map((v, d) => v + self[p]![d]!),
        W(`${block}.ln_attn.w`),
        W(`${block}.ln_attn.b`),
        config.layerNormEps,
      ),
    );
    const cross = attention(config, y, x, (_, j) => attentionMask[j] === 1, W, `${block}.cross`);
    y = y.map((value, p) =>
      layerNorm(
        value.map((v, d) => v + cross[p]![d]!),
        W(`${block}.ln_cross.w`),
        W(`${block}.ln_cross.b`),
        config.layerNormEps,
      ),
    );
    y = mlp(config, W, block, y, record);
  }
  const embedding = W('shared.W_E');
  const bias = W('final_logits_bias');
  const logits = y.map((hidden) => {
    const row = new Float64Array(config.dVocab);
    for (let token = 0; token < config.dVocab; token++) {
      let dot = bias[token]!;
      for (let d = 0; d < config.dModel; d++) dot += hidden[d]! * embedding[token * config.dModel + d]!;
      row[token] = dot;
    }
    return row;
  });
  return { encoderHidden: x, decoderHidden: y, logits, hooks };
}
