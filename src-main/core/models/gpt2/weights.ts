// GPT-2 weight mapping: Hugging Face checkpoint keys → our canonical names, with every shape asserted.
// The one oddity: GPT-2's Conv1D layers store weights as [in, out], which is exactly what `x @ W` needs, so
// c_attn, c_proj, c_fc are used as stored (no transposes). lm_head is tied to wte, as transformers ties it.

import { mapStateDict } from '../../weights/map-weights.ts';
import type { StateDict, StateDictTensor } from '../../weights/state-dict.ts';
import type { Gpt2Config } from './config.ts';

/** Canonical name → tensor, e.g. `blocks.3.mlp.W_out` [d_mlp, d_model]. */
export type Gpt2Weights = Map<string, StateDictTensor>;

/** Canonical names and shapes for a config, in a stable order. */
export function gpt2WeightShapes(config: Gpt2Config): Map<string, number[]> {
  const { dModel: d, dMlp, dVocab, nCtx } = config;
  const shapes = new Map<string, number[]>([
    ['embed.W_E', [dVocab, d]],
    ['pos_embed.W_pos', [nCtx, d]],
  ]);
  for (let layer = 0; layer < config.nLayers; layer++) {
    const block = `blocks.${layer}`;
    shapes.set(`${block}.ln1.w`, [d]).set(`${block}.ln1.b`, [d]);
    shapes.set(`${block}.attn.W_QKV`, [d, 3 * d]).set(`${block}.attn.b_QKV`, [3 * d]);
    shapes.set(`${block}.attn.W_O`, [d, d]).set(`${block}.attn.b_O`, [d]);
    shapes.set(`${block}.ln2.w`, [d]).set(`${block}.ln2.b`, [d]);
    shapes.set(`${block}.mlp.W_in`, [d, dMlp]).set(`${block}.mlp.b_in`, [dMlp]);
    shapes.set(`${block}.mlp.W_out`, [dMlp, d]).set(`${block}.mlp.b_out`, [d]);
  }
  shapes.set('ln_final.w', [d]).set('ln_final.b', [d]);
  return shapes;
}

const layerKeyMap: Record<string, string> = {
  'ln_1.weight': 'ln1.w',
  'ln_1.bias': 'ln1.b',
  'attn.c_attn.weight': 'attn.W_QKV',
  'attn.c_attn.bias': 'attn.b_QKV',
  'attn.c_proj.weight': 'attn.W_O',
  'attn.c_proj.bias': 'attn.b_O',
  'ln_2.weight': 'ln2.w',
  'ln_2.bias': 'ln2.b',
  'mlp.c_fc.weight': 'mlp.W_in',
  'mlp.c_fc.bias': 'mlp.b_in',
  'mlp.c_proj.weight': 'mlp.W_out',
  'mlp.c_proj.bias': 'mlp.b_out',
};

const topKeyMap: Record<string, string> = {
  'wte.weight': 'embed.W_E',
  'wpe.weight': 'pos_embed.W_pos',
  'ln_f.weight': 'ln_final.w',
  'ln_f.bias': 'ln_final.b',
};

/** Checkpoint key → canonical name; null for keys that are not weights (buffers, the tied lm_head). */
export function canonicalGpt2Key(key: string): string | null | undefined {
  const stripped = key.replace(/^(transformer\.|model\.)/, '');
  if (stripped === 'lm_head.weight' || key === 'lm_head.weight') return null;
  if (/^h\.\d+\.attn\.(bias|masked_bias)$/.test(stripped)) return null; // causal-mask buffers of old transformers
  if (stripped in topKeyMap) return topKeyMap[stripped];
  const match = /^h\.(\d+)\.(.+)$/.exec(stripped);
  if (match && match[2]! in layerKeyMap) return `blocks.${match[1]}.${layerKeyMap[match[2]!]}`;
  return undefined;
}

export function mapGpt2Weights(stateDict: StateDict, config: Gpt2Config): Gpt2Weights {
  return mapStateDict(stateDict, {
    architecture: 'GPT-2',
    canonicalKey: canonicalGpt2Key,
    expected: gpt2WeightShapes(config),
    foreignHint: 'Check that these are GPT-2 weights (GPT2LMHeadModel or GPT2Model state dict).',
  });
}
