// BART weight mapping: Hugging Face checkpoint keys → canonical names, every shape asserted. Linear weights keep
// PyTorch's [out, in] layout (the graph multiplies by their transpose); `shared` is the one embedding that the
// encoder, the decoder and the tied lm_head all read, so duplicate copies of it in a checkpoint are ignored.

import { mapStateDict } from '../../weights/map-weights.ts';
import type { StateDict, StateDictTensor } from '../../weights/state-dict.ts';
import { bartPositionOffset, type BartConfig } from './config.ts';

export type BartWeights = Map<string, StateDictTensor>;

const attention = ['W_Q', 'b_Q', 'W_K', 'b_K', 'W_V', 'b_V', 'W_O', 'b_O'] as const;

export function bartWeightShapes(config: BartConfig): Map<string, number[]> {
  const { dModel: d, dMlp, dVocab, nCtx } = config;
  const shapes = new Map<string, number[]>([['shared.W_E', [dVocab, d]]]);
  const attentionShapes = (prefix: string) => {
    for (const name of attention) shapes.set(`${prefix}.${name}`, name.startsWith('W') ? [d, d] : [d]);
  };
  for (const side of ['encoder', 'decoder'] as const) {
    shapes.set(`${side}.pos_embed`, [nCtx + bartPositionOffset, d]);
    shapes.set(`${side}.ln_embed.w`, [d]).set(`${side}.ln_embed.b`, [d]);
    const layers = side === 'encoder' ? config.encoderLayers : config.decoderLayers;
    for (let layer = 0; layer < layers; layer++) {
      const block = `${side}.blocks.${layer}`;
      attentionShapes(`${block}.attn`);
      shapes.set(`${block}.ln_attn.w`, [d]).set(`${block}.ln_attn.b`, [d]);
      if (side === 'decoder') {
        attentionShapes(`${block}.cross`);
        shapes.set(`${block}.ln_cross.w`, [d]).set(`${block}.ln_cross.b`, [d]);
      }
      shapes.set(`${block}.mlp.W_in`, [dMlp, d]).set(`${block}.mlp.b_in`, [dMlp]);
      shapes.set(`${block}.mlp.W_out`, [d, dMlp]).set(`${block}.mlp.b_out`, [d]);
      shapes.set(`${block}.ln_mlp.w`, [d]).set(`${block}.ln_mlp.b`, [d]);
    }
  }
  shapes.set('final_logits_bias', [1, dVocab]);
  return shapes;
}

const projections: Record<string, string> = { q_proj: 'Q', k_proj: 'K', v_proj: 'V', out_proj: 'O' };
const layerNorms: Record<string, string> = {
  self_attn_layer_norm: 'ln_attn',
  encoder_attn_layer_norm: 'ln_cross',
  final_layer_norm: 'ln_mlp',
};

/** Checkpoint key → canonical name; null for keys to ignore (tied or duplicated copies of `shared`). */
export function canonicalBartKey(key: string): string | null | undefined {
  const stripped = key.replace(/^model\./, '');
  if (stripped === 'lm_head.weight' || key === 'lm_head.weight') return null;
  if (/^(encoder|decoder)\.embed_tokens\.weight$/.test(stripped)) return null;
  if (stripped === 'shared.weight') return 'shared.W_E';
  if (stripped === 'final_logits_bias') return 'final_logits_bias';
  let match = /^(encoder|decoder)\.embed_positions\.weight$/.exec(stripped);
  if (match) return `${match[1]}.pos_embed`;
  match = /^(encoder|decoder)\.layernorm_embedding\.(weight|bias)$/.exec(stripped);
  if (match) return `${match[1]}.ln_embed.${match[2] === 'weight' ? 'w' : 'b'}`;
  match =
    /^(encoder|decoder)\.layers\.(\d+)\.(self_attn|encoder_attn)\.(q_proj|k_proj|v_proj|out_proj)\.(weight|bias)$/.exec(
      stripped,
    );
  if (match)
    return `${match[1]}.blocks.${match[2]}.${match[3] === 'self_attn' ? 'attn' : 'cross'}.${match[5] === 'weight' ? 'W' : 'b'}_${projections[match[4]!]}`;
  match =
    /^(encoder|decoder)\.layers\.(\d+)\.(self_attn_layer_norm|encoder_attn_layer_norm|final_layer_norm)\.(weight|bias)$/.exec(
      stripped,
    );
  if (match) return `${match[1]}.blocks.${match[2]}.${layerNorms[match[3]!]}.${match[4] === 'weight' ? 'w' : 'b'}`;
  match = /^(encoder|decoder)\.layers\.(\d+)\.(fc1|fc2)\.(weight|bias)$/.exec(stripped);
  if (match)
    return `${match[1]}.blocks.${match[2]}.mlp.${match[4] === 'weight' ? 'W' : 'b'}_${match[3] === 'fc1' ? 'in' : 'out'}`;
  return undefined;
}

export function mapBartWeights(stateDict: StateDict, config: BartConfig): BartWeights {
  const weights = mapStateDict(stateDict, {
    architecture: 'BART',
    canonicalKey: canonicalBartKey,
    expected: bartWeightShapes(config),
    optional: ['final_logits_bias'], // a BartModel checkpoint has none; transformers then uses zeros
    foreignHint: 'Check that these are BART weights (BartForConditionalGeneration or BartModel).',
  });
  if (!weights.has('final_logits_bias')) {
    const zeros = new Float32Array(config.dVocab);
    weights.set('final_logits_bias', {
      name: 'final_logits_bias',
      shape: [1, config.dVocab],
      dtype: 'F32',
      location: null,
      read: () => zeros,
    });
  }
  return weights;
}
