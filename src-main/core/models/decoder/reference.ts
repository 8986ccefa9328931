// A slow, readable TypeScript forward pass of every decoder family — the reference the ONNX graph is checked against on tiny
// models. Same inputs, same hooks, same interventions; plain loops over float64 accumulators.

import { decoderHookNames } from '../../../shared/index.ts';
import type { DecoderConfig } from './config.ts';
import type { DecoderInterventions } from './decoder-session.ts';
import { layerNorm, type Vector } from '../reference-math.ts';

export interface ReferenceInputs {
  inputIds: number[][]; // [batch][pos]
  attentionMask: number[][]; // [batch][pos], 1 = real token, 0 = padding (no past in the reference)
  positionIds: number[][]; // [batch][pos]
  /** The session's intervention tensors, with the positions given row by row. */
  interventions?: Omit<DecoderInterventions, 'positions'> & {
    interventionPositions: number[][]; // [batch][pos]
  };
}

/** Every hook at every position as [batch, pos, width], plus logits [batch, pos, d_vocab]. */
export type ReferenceOutputs = Map<string, Float32Array>;

function rmsNorm(x: Vector, weight: Float32Array, eps: number, offset: number): Vector {
  let meanSquare = 0;
  for (const value of x) meanSquare += value * value;
  const scale = 1 / Math.sqrt(meanSquare / x.length + eps);
  return x.map((value, index) => value * scale * (weight[index]! + offset));
}

/** y = x · W + b with W stored [in, out] (GPT-2's Conv1D layout) or [out, in] (nn.Linear); no bias when absent. */
function linear(
  x: Vector,
  weight: Float32Array,
  bias: Float32Array | undefined,
  outSize: number,
  layout: 'in-out' | 'out-in',
): Vector {
  const y = new Float64Array(outSize);
  const inSize = x.length;
  for (let o = 0; o < outSize; o++) {
    let sum = bias ? bias[o]! : 0;
    for (let i = 0; i < inSize; i++) sum += x[i]! * weight[layout === 'in-out' ? i * outSize + o : o * inSize + i]!;
    y[o] = sum;
  }
  return y;
}

/** gelu_new and gelu_pytorch_tanh: the same tanh approximation. */
function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
}

function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

/** Rotate-half RoPE of one head's vector at a position: pairs (i, i + d/2) turn by position · inv_freq[i]. */
function rotate(x: Vector, position: number, inverseFrequencies: Float64Array): Vector {
  const half = x.length / 2;
  const y = new Float64Array(x.length);
  for (let i = 0; i < half; i++) {
    // float32 angles, as the graph and Hugging Face compute them
    const angle = Math.fround(position * Math.fround(inverseFrequencies[i]!));
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    y[i] = x[i]! * cos - x[i + half]! * sin;
    y[i + half] = x[i + half]! * cos + x[i]! * sin;
  }
  return y;
}

export function decoderReferenceForward(
  config: DecoderConfig,
  weights: Map<string, Float32Array>,
  inputs: ReferenceInputs,
): ReferenceOutputs {
  const { nLayers, dModel, nHeads, nKvHeads, dHead, dMlp, dVocab, linearLayout: layout, attention } = config;
  const gated = config.mlp.kind === 'gated';
  const W = (name: string) =>
    weights.get(name) ??
    (() => {
      throw new RangeError(`missing weight ${name}`);
    })();
  const bias = (name: string) => weights.get(name);
  const norm = (x: Vector, prefix: string) =>
    config.norm.kind === 'layernorm'
      ? layerNorm(x, W(`${prefix}.w`), W(`${prefix}.b`), config.norm.eps)
      : rmsNorm(x, W(`${prefix}.w`), config.norm.eps, config.norm.weightOffset);
  const softcap = (value: number, cap: number | null) => (cap === null ? value : Math.tanh(value / cap) * cap);
  const batch = inputs.inputIds.length;
  const pos = inputs.inputIds[0]!.length;
  const outputs: ReferenceOutputs = new Map();
  for (const name of decoderHookNames(nLayers, gated)) {
    const width = name === 'logits' ? dVocab : /mlp\.hook_(pre|pre_linear|post)$/.test(name) ? dMlp : dModel;
    outputs.set(name, new Float32Array(batch * pos * width));
  }
  const record = (name: string, b: number, p: number, value: Vector) => {
    const target = outputs.get(name)!;
    target.set(value, (b * pos + p) * value.length);
  };
  const group = nHeads / nKvHeads;

  for (let b = 0; b < batch; b++) {
    const positions = inputs.positionIds[b]!;
    // residual[p] for every position of this sequence
    let residual: Vector[] = [];
    for (let p = 0; p < pos; p++) {
      const token = inputs.inputIds[b]![p]!;
      const x = new Float64Array(dModel);
      for (let d = 0; d < dModel; d++) {
        const embedding = W('embed.W_E')[token * dModel + d]!;
        x[d] =
          config.positions.kind === 'learned'
            ? embedding + W('pos_embed.W_pos')[positions[p]! * dModel + d]!
            : embedding * (config.embeddingScale ?? 1);
      }
      if (config.positions.kind === 'rotary') record('hook_embed', b, p, x);
      residual.push(x);
    }
    for (let layer = 0; layer < nLayers; layer++) {
      const block = `blocks.${layer}`;
      const window = attention.slidingWindow[layer] ?? null;
      residual.forEach((x, p) => record(`${block}.hook_resid_pre`, b, p, x));
      // Per position: queries [n_heads][d_head], keys and values [n_kv_heads][d_head], rotated when rotary.
      const heads = residual.map((x, p) => {
        const normalized = norm(x, `${block}.ln1`);
        let q: Vector, k: Vector, v: Vector;
        if (layout === 'in-out') {
          const qkv = linear(normalized, W(`${block}.attn.W_QKV`), W(`${block}.attn.b_QKV`), 3 * dModel, layout);
          [q, k, v] = [qkv.subarray(0, dModel), qkv.subarray(dModel, 2 * dModel), qkv.subarray(2 * dModel)];
        } else {
          q = linear(normalized, W(`${block}.attn.W_Q`), bias(`${block}.attn.b_Q`), nHeads * dHead, layout);
          k = linear(normalized, W(`${block}.attn.W_K`), bias(`${block}.attn.b_K`), nKvHeads * dHead, layout);
          v = linear(normalized, W(`${block}.attn.W_V`), bias(`${block}.attn.b_V`), nKvHeads * dHead, layout);
        }
        const split = (flat: Vector, count: number, rotated: boolean) =>
          Array.from({ length: count }, (_, head) => {
            const vector = flat.slice(head * dHead, (head + 1) * dHead);
            return rotated && config.positions.kind === 'rotary'
              ? rotate(vector, positions[p]!, config.positions.inverseFrequencies)
              : vector;
          });
        return { q: split(q, nHeads, true), k: split(k, nKvHeads, true), v: split(v, nKvHeads, false) };
      });
      const mid: Vector[] = [];
      for (let p = 0; p < pos; p++) {
        const mixed = new Float64Array(nHeads * dHead);
        for (let head = 0; head < nHeads; head++) {
          const kvHead = Math.floor(head / group); // grouped-query attention, as Hugging Face's repeat_kv
          // Keys visible to query p: causal, not padding, inside the window; a row with none visible attends
          // uniformly (never read).
          const visible = Array.from(
            { length: pos },
            (_, key) =>
              key <= p &&
              inputs.attentionMask[b]![key] === 1 &&
              (window === null || positions[p]! - positions[key]! < window),
          );
          const scores = visible.map((isVisible, key) => {
            if (!isVisible) return -Infinity;
            let dot = 0;
            for (let d = 0; d < dHead; d++) dot += heads[p]!.q[head]![d]! * heads[key]!.k[kvHead]![d]!;
            return softcap(dot * attention.scale, attention.logitSoftcap);
          });
          const max = Math.max(...scores);
          const exps = scores.map((score) => (max === -Infinity ? 1 : Math.exp(score - max)));
          const sum = exps.reduce((a, c) => a + c, 0);
          for (let key = 0; key < pos; key++) {
            const weight = exps[key]! / sum;
            for (let d = 0; d < dHead; d++) mixed[head * dHead + d]! += weight * heads[key]!.v[kvHead]![d]!;
          }
        }
        let attnOut = linear(mixed, W(`${block}.attn.W_O`), bias(`${block}.attn.b_O`), dModel, layout);
        if (config.sandwichNorms) attnOut = norm(attnOut, `${block}.ln1_post`);
        record(`${block}.hook_attn_out`, b, p, attnOut);
        mid.push(residual[p]!.map((value, d) => value + attnOut[d]!));
        record(`${block}.hook_resid_mid`, b, p, mid[p]!);
      }
      residual = mid.map((x, p) => {
        // pre = (x·W_key) ⊙ key_scale + b_key, where the key is W_in (dense) or the gate (gated)
        const keyScale = inputs.interventions?.mlpKeyScale;
        const normalized = norm(x, `${block}.ln2`);
        const keyWeight = gated ? `${block}.mlp.W_gate` : `${block}.mlp.W_in`;
        const keyBias = bias(gated ? `${block}.mlp.b_gate` : `${block}.mlp.b_in`);
        const keyProducts = linear(normalized, W(keyWeight), undefined, dMlp, layout);
        const pre = keyProducts.map(
          (value, n) => value * (keyScale ? keyScale[layer * dMlp + n]! : 1) + (keyBias ? keyBias[n]! : 0),
        );
        record(`${block}.mlp.hook_pre`, b, p, pre);
        const post = pre.map(config.mlp.activation === 'silu' ? silu : geluTanh);
        if (gated) {
          const up = linear(normalized, W(`${block}.mlp.W_in`), bias(`${block}.mlp.b_in`), dMlp, layout);
          record(`${block}.mlp.hook_pre_linear`, b, p, up);
          for (let n = 0; n < dMlp; n++) post[n]! *= up[n]!;
        }
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
        let mlpOut = linear(post, W(`${block}.mlp.W_out`), bias(`${block}.mlp.b_out`), dModel, layout);
        if (config.sandwichNorms) mlpOut = norm(mlpOut, `${block}.ln2_post`);
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
    const unembed = W(config.tiedEmbeddings ? 'embed.W_E' : 'unembed.W_U'); // [d_vocab, d_model]
    residual.forEach((x, p) => {
      const normalized = norm(x, 'ln_final');
      record('ln_final.hook_normalized', b, p, normalized);
      const logits = new Float64Array(dVocab);
      for (let token = 0; token < dVocab; token++) {
        let dot = 0;
        for (let d = 0; d < dModel; d++) dot += normalized[d]! * unembed[token * dModel + d]!;
        logits[token] = softcap(dot, config.finalLogitSoftcap);
      }
      record('logits', b, p, logits);
    });
  }
  return outputs;
}
