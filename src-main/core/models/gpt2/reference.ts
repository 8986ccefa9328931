// A slow, readable TypeScript forward pass of GPT-2 — the reference the ONNX graph is checked against on tiny
// models. Same inputs, same hooks, same interventions; plain loops over float64 accumulators.

import { decoderHookNames } from '../../../shared/index.ts';
import type { Gpt2Config } from './config.ts';
import type { Gpt2Interventions } from './gpt2-session.ts';

export interface ReferenceInputs {
  inputIds: number[][]; // [batch][pos]
  attentionMask: number[][]; // [batch][pos], 1 = real token, 0 = padding (no past in the reference)
  positionIds: number[][]; // [batch][pos]
  /** The session's intervention tensors, with the positions given row by row. */
  interventions?: Omit<Gpt2Interventions, 'positions'> & {
    interventionPositions: number[][]; // [batch][pos]
  };
}

/** Every hook at every position as [batch, pos, width], plus logits [batch, pos, d_vocab]. */
export type ReferenceOutputs = Map<string, Float32Array>;

type Vector = Float64Array;

function layerNorm(x: Vector, weight: Float32Array, bias: Float32Array, eps: number): Vector {
  let mean = 0;
  for (const value of x) mean += value;
  mean /= x.length;
  let variance = 0;
  for (const value of x) variance += (value - mean) ** 2;
  variance /= x.length;
  const scale = 1 / Math.sqrt(variance + eps);
  return x.map((value, index) => (value - mean) * scale * weight[index]! + bias[index]!);
}

/** y = x · W + b with W stored [in, out] (GPT-2's Conv1D layout). */
function linear(x: Vector, weight: Float32Array, bias: Float32Array, outSize: number): Vector {
  const y = new Float64Array(outSize);
  for (let o = 0; o < outSize; o++) y[o] = bias[o]!;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    if (xi === 0) continue;
    const row = i * outSize;
    for (let o = 0; o < outSize; o++) y[o]! += xi * weight[row + o]!;
  }
  return y;
}

function geluNew(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
}

export function gpt2ReferenceForward(
  config: Gpt2Config,
  weights: Map<string, Float32Array>,
  inputs: ReferenceInputs,
): ReferenceOutputs {
  const { nLayers, dModel, nHeads, dHead, dMlp, dVocab, layerNormEps } = config;
  const W = (name: string) =>
    weights.get(name) ??
    (() => {
      throw new RangeError(`missing weight ${name}`);
    })();
  const batch = inputs.inputIds.length;
  const pos = inputs.inputIds[0]!.length;
  const outputs: ReferenceOutputs = new Map();
  for (const name of decoderHookNames(nLayers)) {
    const width =
      name === 'logits' ? dVocab : name.endsWith('mlp.hook_pre') || name.endsWith('mlp.hook_post') ? dMlp : dModel;
    outputs.set(name, new Float32Array(batch * pos * width));
  }
  const record = (name: string, b: number, p: number, value: Vector) => {
    const target = outputs.get(name)!;
    target.set(value, (b * pos + p) * value.length);
  };

  for (let b = 0; b < batch; b++) {
    // residual[p] for every position of this sequence
    let residual: Vector[] = [];
    for (let p = 0; p < pos; p++) {
      const token = inputs.inputIds[b]![p]!;
      const position = inputs.positionIds[b]![p]!;
      const x = new Float64Array(dModel);
      for (let d = 0; d < dModel; d++)
        x[d] = W('embed.W_E')[token * dModel + d]! + W('pos_embed.W_pos')[position * dModel + d]!;
      residual.push(x);
    }
    for (let layer = 0; layer < nLayers; layer++) {
      const block = `blocks.${layer}`;
      residual.forEach((x, p) => record(`${block}.hook_resid_pre`, b, p, x));
      const qkv = residual.map((x) =>
        linear(
          layerNorm(x, W(`${block}.ln1.w`), W(`${block}.ln1.b`), layerNormEps),
          W(`${block}.attn.W_QKV`),
          W(`${block}.attn.b_QKV`),
          3 * dModel,
        ),
      );
      const mid: Vector[] = [];
      for (let p = 0; p < pos; p++) {
        const mixed = new Float64Array(dModel);
        for (let head = 0; head < nHeads; head++) {
          const offset = head * dHead;
          // Keys visible to query p: causal and not padding; a row with none visible attends uniformly (never read).
          const visible = Array.from({ length: pos }, (_, key) => key <= p && inputs.attentionMask[b]![key] === 1);
          const scores = visible.map((isVisible, key) => {
            if (!isVisible) return -Infinity;
            let dot = 0;
            for (let d = 0; d < dHead; d++) dot += qkv[p]![offset + d]! * qkv[key]![dModel + offset + d]!;
            return dot / Math.sqrt(dHead);
          });
          const max = Math.max(...scores);
          const exps = scores.map((score) => (max === -Infinity ? 1 : Math.exp(score - max)));
          const sum = exps.reduce((a, c) => a + c, 0);
          for (let key = 0; key < pos; key++) {
            const weight = exps[key]! / sum;
            for (let d = 0; d < dHead; d++) mixed[offset + d]! += weight * qkv[key]![2 * dModel + offset + d]!;
          }
        }
        const attnOut = linear(mixed, W(`${block}.attn.W_O`), W(`${block}.attn.b_O`), dModel);
        record(`${block}.hook_attn_out`, b, p, attnOut);
        mid.push(residual[p]!.map((value, d) => value + attnOut[d]!));
        record(`${block}.hook_resid_mid`, b, p, mid[p]!);
      }
      residual = mid.map((x, p) => {
        // pre = (x·W_in) ⊙ key_scale + b_in
        const keyScale = inputs.interventions?.mlpKeyScale;
        const bIn = W(`${block}.mlp.b_in`);
        const keyProducts = linear(
          layerNorm(x, W(`${block}.ln2.w`), W(`${block}.ln2.b`), layerNormEps),
          W(`${block}.mlp.W_in`),
          new Float32Array(dMlp),
          dMlp,
        );
        const pre = keyProducts.map((value, n) => value * (keyScale ? keyScale[layer * dMlp + n]! : 1) + bIn[n]!);
        record(`${block}.mlp.hook_pre`, b, p, pre);
        const post = pre.map(geluNew);
        const intervention = inputs.interventions;
        if (intervention) {
          const here = intervention.interventionPositions[b]![p]!;
          for (let n = 0; n < dMlp; n++) {
            const index = layer * dMlp + n;
            const gain = 1 + (intervention.mlpPostGain[index]! - 1) * here;
            const scaled = post[n]! * intervention.mlpPostScale[index]! * gain;
            const weight = intervention.mlpPostOverrideMask[index]! * here;
            post[n] = scaled + weight * (intervention.mlpPostOverrideValue[index]! - scaled);
          }
        }
        record(`${block}.mlp.hook_post`, b, p, post);
        const mlpOut = linear(post, W(`${block}.mlp.W_out`), W(`${block}.mlp.b_out`), dModel);
        if (intervention) {
          const here = intervention.interventionPositions[b]![p]!;
          for (let d = 0; d < dModel; d++) mlpOut[d]! += intervention.mlpOutAdd[layer * dModel + d]! * here;
        }
        record(`${block}.hook_mlp_out`, b, p, mlpOut);
        const out = x.map((value, d) => value + mlpOut[d]!);
        record(`${block}.hook_resid_post`, b, p, out);
        return out;
      });
    }
    residual.forEach((x, p) => {
      const normalized = layerNorm(x, W('ln_final.w'), W('ln_final.b'), layerNormEps);
      record('ln_final.hook_normalized', b, p, normalized);
      const logits = new Float64Array(dVocab);
      for (let token = 0; token < dVocab; token++) {
        let dot = 0;
        for (let d = 0; d < dModel; d++) dot += normalized[d]! * W('embed.W_E')[token * dModel + d]!;
        logits[token] = dot;
      }
      record('logits', b, p, logits);
    });
  }
  return outputs;
}
