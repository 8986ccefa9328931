// BERT/RoBERTa classifier weight mapping: Hugging Face checkpoint keys (`bert.…`/`roberta.…`, the head's
// `classifier.…`) → canonical names, every shape asserted against config.json. Linear weights keep PyTorch's
// [out, in] layout, as in BART. Buffers (position_ids, token_type_ids) and RoBERTa's unused pooler are ignored;
// old checkpoints' LayerNorm.gamma/beta are read as weight/bias, as transformers does.

import { raise } from '../../../shared/index.ts';
import { mapStateDict } from '../../weights/map-weights.ts';
import type { StateDict, StateDictTensor } from '../../weights/state-dict.ts';
import type { ClassifierConfig } from './config.ts';

export type ClassifierWeights = Map<string, StateDictTensor>;

const attention = ['W_Q', 'b_Q', 'W_K', 'b_K', 'W_V', 'b_V', 'W_O', 'b_O'] as const;

export function classifierWeightShapes(config: ClassifierConfig): Map<string, number[]> {
  const { dModel: d, dMlp, dVocab, nCtx, nTokenTypes, nOutputs } = config;
  const shapes = new Map<string, number[]>([
    ['embed.W_E', [dVocab, d]],
    ['embed.W_pos', [nCtx, d]],
    ['embed.W_type', [nTokenTypes, d]],
    ['embed.ln.w', [d]],
    ['embed.ln.b', [d]],
  ]);
  for (let layer = 0; layer < config.nLayers; layer++) {
    const block = `blocks.${layer}`;
    for (const name of attention) shapes.set(`${block}.attn.${name}`, name.startsWith('W') ? [d, d] : [d]);
    shapes.set(`${block}.ln_attn.w`, [d]).set(`${block}.ln_attn.b`, [d]);
    shapes.set(`${block}.mlp.W_in`, [dMlp, d]).set(`${block}.mlp.b_in`, [dMlp]);
    shapes.set(`${block}.mlp.W_out`, [d, dMlp]).set(`${block}.mlp.b_out`, [d]);
    shapes.set(`${block}.ln_mlp.w`, [d]).set(`${block}.ln_mlp.b`, [d]);
  }
  // BERT: pooler.dense then classifier; RoBERTa: classifier.dense then classifier.out_proj. Same shapes, same math.
  shapes.set('head.W_dense', [d, d]).set('head.b_dense', [d]);
  shapes.set('head.W_out', [nOutputs, d]).set('head.b_out', [nOutputs]);
  return shapes;
}

const projections: Record<string, string> = { query: 'Q', key: 'K', value: 'V' };
const kind = (suffix: string) => (suffix === 'weight' || suffix === 'gamma' ? 'W' : 'b');
const lnKind = (suffix: string) => (suffix === 'weight' || suffix === 'gamma' ? 'w' : 'b');

/** The head's own key names (no model prefix), per architecture. */
const headKeys: Record<ClassifierConfig['architecture'], { out: string; dense: string; description: string }> = {
  bert: {
    out: 'classifier',
    dense: 'bert.pooler.dense',
    description: 'classifier.weight and classifier.bias after bert.pooler.dense (BertForSequenceClassification)',
  },
  roberta: {
    out: 'classifier.out_proj',
    dense: 'classifier.dense',
    description: 'classifier.dense.* and classifier.out_proj.* (RobertaForSequenceClassification)',
  },
};

/** Checkpoint key → canonical name; null for known tensors the graph does not use; undefined for foreign keys. */
export function canonicalClassifierKey(
  architecture: ClassifierConfig['architecture'],
  key: string,
): string | null | undefined {
  const head = headKeys[architecture];
  const escape = (prefix: string) => prefix.replace(/\./g, '\\.');
  let match = new RegExp(`^${escape(head.out)}\\.(weight|bias)$`).exec(key);
  if (match) return `head.${kind(match[1]!)}_out`;
  match = new RegExp(`^${escape(head.dense)}\\.(weight|bias)$`).exec(key);
  if (match) return `head.${kind(match[1]!)}_dense`;

  // The body is the base model under its prefix (`bert.`, `roberta.`), as *ForSequenceClassification saves it.
  if (!key.startsWith(`${architecture}.`)) return undefined;
  const body = key.slice(architecture.length + 1);
  if (/^embeddings\.(position_ids|token_type_ids)$/.test(body)) return null; // buffers, rebuilt by the graph
  if (architecture === 'roberta' && /^pooler\.dense\.(weight|bias)$/.test(body)) return null; // RoBERTa's head skips it
  match = /^embeddings\.(word|position|token_type)_embeddings\.weight$/.exec(body);
  if (match) return `embed.${{ word: 'W_E', position: 'W_pos', token_type: 'W_type' }[match[1]!]}`;
  match = /^embeddings\.LayerNorm\.(weight|bias|gamma|beta)$/.exec(body);
  if (match) return `embed.ln.${lnKind(match[1]!)}`;
  match = /^encoder\.layer\.(\d+)\.(.+)$/.exec(body);
  if (!match) return undefined;
  const block = `blocks.${match[1]}`;
  const rest = match[2]!;
  if ((match = /^attention\.self\.(query|key|value)\.(weight|bias)$/.exec(rest)))
    return `${block}.attn.${kind(match[2]!)}_${projections[match[1]!]}`;
  if ((match = /^attention\.output\.dense\.(weight|bias)$/.exec(rest))) return `${block}.attn.${kind(match[1]!)}_O`;
  if ((match = /^attention\.output\.LayerNorm\.(weight|bias|gamma|beta)$/.exec(rest)))
    return `${block}.ln_attn.${lnKind(match[1]!)}`;
  if ((match = /^intermediate\.dense\.(weight|bias)$/.exec(rest))) return `${block}.mlp.${kind(match[1]!)}_in`;
  if ((match = /^output\.dense\.(weight|bias)$/.exec(rest))) return `${block}.mlp.${kind(match[1]!)}_out`;
  if ((match = /^output\.LayerNorm\.(weight|bias|gamma|beta)$/.exec(rest)))
    return `${block}.ln_mlp.${lnKind(match[1]!)}`;
  return undefined;
}

/** Where the expected number of outputs came from, for the message when the head disagrees. */
export interface OutputsSource {
  /** e.g. `id2label in /m/config.json` or `config.arch.args.num_classes in /m/x.ckpt`. */
  what: string;
  hint: string;
}

/**
 * Maps a checkpoint onto the canonical names. Before the generic checks, two classifier-specific ones with their own
 * messages: the checkpoint must have a classification head, and the head's size must equal `config.nOutputs`.
 */
export function mapClassifierWeights(
  stateDict: StateDict,
  config: ClassifierConfig,
  outputs: OutputsSource,
): ClassifierWeights {
  const files = stateDict.files.join(', ');
  const head = headKeys[config.architecture];
  const outWeight = stateDict.tensors.get(`${head.out}.weight`);
  if (!outWeight || !stateDict.tensors.has(`${head.dense}.weight`)) {
    const found = [...stateDict.tensors.keys()].filter((key) => /^(classifier|cls|lm_head|qa_outputs)\./.test(key));
    raise(
      'WEIGHTS_INVALID',
      `${files} has no ${config.architecture === 'bert' ? 'BERT' : 'RoBERTa'} sequence-classification head: expected ${head.description}${found.length ? `; found ${found.slice(0, 4).join(', ')}` : ''}.`,
      'This is a base model or a model for another task. Pass a text-classification checkpoint (a fine-tuned *ForSequenceClassification).',
    );
  }
  if (outWeight.shape.length === 2 && outWeight.shape[0] !== config.nOutputs) {
    raise(
      'WEIGHTS_INVALID',
      `The classification head ${head.out}.weight in ${files} has ${outWeight.shape[0]} outputs, but ${outputs.what} gives ${config.nOutputs}.`,
      outputs.hint,
    );
  }
  return mapStateDict(stateDict, {
    architecture: config.architecture === 'bert' ? 'BERT classifier' : 'RoBERTa classifier',
    canonicalKey: (key) => canonicalClassifierKey(config.architecture, key),
    expected: classifierWeightShapes(config),
    foreignHint: `Check that these are ${config.architecture === 'bert' ? 'BertForSequenceClassification' : 'RobertaForSequenceClassification'} weights matching config.json's model_type.`,
  });
}

/**
 * Adds, per layer, the fused attention's packed projection: W_QKV [d_model, 3·d_model] = [W_Qᵀ | W_Kᵀ | W_Vᵀ] and
 * b_QKV [3·d_model], the layout com.microsoft.Attention reads. Computed only when a graph places them.
 */
export function withPackedQkv(weights: ClassifierWeights, config: ClassifierConfig): ClassifierWeights {
  const packed = new Map(weights);
  const d = config.dModel;
  const parts = ['Q', 'K', 'V'] as const;
  for (let layer = 0; layer < config.nLayers; layer++) {
    const tensor = (name: string) => weights.get(`blocks.${layer}.attn.${name}`)!;
    const weightName = `blocks.${layer}.attn.W_QKV`;
    packed.set(weightName, {
      name: weightName,
      shape: [d, 3 * d],
      dtype: 'F32',
      location: null,
      read: () => {
        const out = new Float32Array(d * 3 * d); // [d_model (in), 3·d_model (out)]
        parts.forEach((part, p) => {
          const w = tensor(`W_${part}`).read(); // [out, in]
          for (let o = 0; o < d; o++) for (let i = 0; i < d; i++) out[i * 3 * d + p * d + o] = w[o * d + i]!;
        });
        return out;
      },
    });
    const biasName = `blocks.${layer}.attn.b_QKV`;
    packed.set(biasName, {
      name: biasName,
      shape: [3 * d],
      dtype: 'F32',
      location: null,
      read: () => {
        const out = new Float32Array(3 * d);
        parts.forEach((part, p) => out.set(tensor(`b_${part}`).read(), p * d));
        return out;
      },
    });
  }
  return packed;
}
