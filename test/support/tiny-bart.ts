// Tiny seeded BART checkpoints in Hugging Face layout (config.json, model.safetensors with real key names, and a
// BART-format tokenizer: <s> <pad> </s> <unk>, GPT-2's byte-level BPE, <mask>), written to a temporary folder.

import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { encodeSafetensors, type WritableTensor } from '../../src-main/core/weights/safetensors.ts';
import { gpt2MergesText, gpt2Vocab } from './gpt2-tokenizer-files.ts';
import { randomNormal, seededRandom } from './random.ts';

export const tinyBartShape = { dModel: 16, heads: 2, ffn: 32, encoderLayers: 2, decoderLayers: 2, positions: 64 };

/** GPT-2's vocabulary shifted by the four BART specials, with <mask> last: 50262 entries. */
export function bartStyleVocab(): Record<string, number> {
  const vocab: Record<string, number> = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3 };
  for (const [token, id] of Object.entries(gpt2Vocab())) if (token !== '<|endoftext|>') vocab[token] = id + 4;
  vocab['<mask>'] = Math.max(...Object.values(vocab)) + 1;
  return vocab;
}

export type BartShape = typeof tinyBartShape & { vocabSize?: number };

/** bart-base's shape (spec marco.md §7.1), for benchmarks. */
export const bartBaseShape: BartShape = {
  dModel: 768,
  heads: 12,
  ffn: 3072,
  encoderLayers: 6,
  decoderLayers: 6,
  positions: 1024,
  vocabSize: 50265,
};

export function writeTinyBartFolder(
  seed: number,
  folder = mkdtempSync(join(os.tmpdir(), 'toxscope-bart-')),
  shape: BartShape = tinyBartShape,
): string {
  const vocab = bartStyleVocab();
  const vocabSize = Math.max(shape.vocabSize ?? 0, Object.keys(vocab).length);
  const { dModel: d, heads, ffn, encoderLayers, decoderLayers, positions } = shape;
  writeFileSync(join(folder, 'vocab.json'), JSON.stringify(vocab));
  writeFileSync(join(folder, 'merges.txt'), gpt2MergesText());
  writeFileSync(
    join(folder, 'config.json'),
    JSON.stringify({
      model_type: 'bart',
      architectures: ['BartForConditionalGeneration'],
      vocab_size: vocabSize,
      d_model: d,
      encoder_layers: encoderLayers,
      decoder_layers: decoderLayers,
      encoder_attention_heads: heads,
      decoder_attention_heads: heads,
      encoder_ffn_dim: ffn,
      decoder_ffn_dim: ffn,
      max_position_embeddings: positions,
      activation_function: 'gelu',
      scale_embedding: false,
      bos_token_id: 0,
      pad_token_id: 1,
      eos_token_id: 2,
      decoder_start_token_id: 2,
      forced_eos_token_id: 2,
    }),
  );
  const random = seededRandom(seed);
  const tensors: WritableTensor[] = [];
  const add = (name: string, shape: number[], std: number, base = 0) => {
    const data = randomNormal(
      random,
      shape.reduce((a, b) => a * b, 1),
      std,
    ).map((value) => value + base);
    tensors.push({ name, dtype: 'F32', shape, data });
  };
  const scale = shape === tinyBartShape ? 1 : 0.1; // bart-base-sized random weights need smaller scales to stay finite
  add('model.shared.weight', [vocabSize, d], 0.3 * scale);
  for (const side of ['encoder', 'decoder']) {
    add(`model.${side}.embed_positions.weight`, [positions + 2, d], 0.1);
    add(`model.${side}.layernorm_embedding.weight`, [d], 0.1, 1);
    add(`model.${side}.layernorm_embedding.bias`, [d], 0.1);
    for (let layer = 0; layer < (side === 'encoder' ? encoderLayers : decoderLayers); layer++) {
      const prefix = `model.${side}.layers.${layer}`;
      for (const attention of side === 'encoder' ? ['self_attn'] : ['self_attn', 'encoder_attn']) {
        for (const projection of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
          add(`${prefix}.${attention}.${projection}.weight`, [d, d], 0.3 * scale);
          add(`${prefix}.${attention}.${projection}.bias`, [d], 0.1);
        }
        add(`${prefix}.${attention}_layer_norm.weight`, [d], 0.1, 1);
        add(`${prefix}.${attention}_layer_norm.bias`, [d], 0.1);
      }
      add(`${prefix}.fc1.weight`, [ffn, d], 0.3 * scale);
      add(`${prefix}.fc1.bias`, [ffn], 0.1);
      add(`${prefix}.fc2.weight`, [d, ffn], 0.3 * scale);
      add(`${prefix}.fc2.bias`, [d], 0.1);
      add(`${prefix}.final_layer_norm.weight`, [d], 0.1, 1);
      add(`${prefix}.final_layer_norm.bias`, [d], 0.1);
    }
  }
  add('final_logits_bias', [1, vocabSize], 0.05);
  writeFileSync(join(folder, 'model.safetensors'), encodeSafetensors(tensors));
  return folder;
}
