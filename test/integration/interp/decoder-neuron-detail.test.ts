// The neuron close-up and the toxic-embedding direction on the gated families (Llama-3 sharded in bf16, Mistral in
// fp16, Qwen2 and Gemma-2 with tied embeddings), checked against the checkpoint's own tensors: the value vector is
// column i of down_proj.weight, the unembedding is lm_head.weight or, tied, embed_tokens.weight.

import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { promptIds } from '../../../src-main/core/interp/compare-job.ts';
import { neuronDetailJob } from '../../../src-main/core/interp/neuron-detail-job.ts';
import {
  defaultNonToxicWords,
  defaultToxicWords,
  toxicEmbeddingDirection,
} from '../../../src-main/core/interp/neuron-statistics.ts';
import { loadModel } from '../../../src-main/core/models/load-model.ts';
import { activationsJob } from '../../../src-main/core/models/model-jobs.ts';
import { openSafetensors } from '../../../src-main/core/weights/safetensors.ts';
import { tinyDecoderFolder } from '../../support/decoder-fixtures.ts';
import { useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';
import { testContext } from '../../support/job-context.ts';

beforeAll(() => {
  useTemporaryDataDir();
});

/** A tensor of the checkpoint by its Hugging Face name ([rows, cols] row-major), from whichever shard holds it. */
function checkpointTensor(folder: string, name: string): { data: Float32Array; shape: number[] } | null {
  const index = join(folder, 'model.safetensors.index.json');
  const file = existsSync(index)
    ? (JSON.parse(readFileSync(index, 'utf8')) as { weight_map: Record<string, string> }).weight_map[name]
    : 'model.safetensors';
  if (!file) return null;
  const safetensors = openSafetensors(join(folder, file));
  const entry = safetensors.tensors.get(name);
  return entry ? { data: safetensors.readFloat32(name), shape: entry.shape } : null;
}

describe.each([
  ['llama3', false],
  ['mistral', false],
  ['qwen2', true],
  ['gemma2', true],
] as const)('%s', (variant, tied) => {
  const layer = 1;
  const neuron = 5;

  it("shows the neuron's activations, ‖v‖ and the tokens v promotes, from down_proj's column and the unembedding", async () => {
    const folder = tinyDecoderFolder(variant);
    const detail = await neuronDetailJob(
      {
        base: folder,
        dpo: folder,
        layer,
        neuron,
        prompt: 'the cat sat on the mat',
        prependBos: true,
        topTokens: 3,
        device: 'cpu',
      },
      testContext<never>().context,
    );
    const down = checkpointTensor(folder, `model.layers.${layer}.mlp.down_proj.weight`)!; // [d_model, d_mlp]
    const [dModel, dMlp] = down.shape as [number, number];
    const value = Array.from({ length: dModel }, (_, d) => down.data[d * dMlp + neuron]!);
    expect(detail.base.valueNorm).toBeCloseTo(Math.hypot(...value), 5);

    const unembedding = checkpointTensor(folder, tied ? 'model.embed_tokens.weight' : 'lm_head.weight')!;
    expect(checkpointTensor(folder, 'lm_head.weight') === null).toBe(tied);
    const vocab = unembedding.shape[0]!;
    const logits = Array.from({ length: vocab }, (_, token) =>
      value.reduce((sum, v, d) => sum + v * unembedding.data[token * dModel + d]!, 0),
    );
    const best = [...logits.keys()].sort((a, b) => logits[b]! - logits[a]!).slice(0, 3);
    detail.base.promoted.forEach((entry, rank) => expect(entry.logit).toBeCloseTo(logits[best[rank]!]!, 4));

    // The activations are the neuron's column of mlp.hook_post over the same tokens.
    const model = loadModel(folder);
    const [ids] = await promptIds(model, ['the cat sat on the mat'], 64, true); // BOS first, as the close-up reads it
    const out = join(mkdtempSync(join(os.tmpdir(), 'toxscope-detail-')), 'a.safetensors');
    await activationsJob(
      { model: folder, ids: ids!, prependBos: false, hooks: [`blocks.${layer}.mlp.hook_post`], out, device: 'cpu' },
      testContext<never>().context,
    );
    const post = openSafetensors(out).readFloat32(`blocks.${layer}.mlp.hook_post`); // [pos, d_mlp]
    expect(detail.base.activations).toHaveLength(ids!.length);
    detail.base.activations.forEach((activation, position) =>
      expect(activation).toBeCloseTo(post[position * dMlp + neuron]!, 6),
    );
  });

  it('takes the toxic-embedding direction from the unembedding: lm_head.weight, or the tied embedding', async () => {
    const folder = tinyDecoderFolder(variant);
    const model = loadModel(folder);
    const direction = await toxicEmbeddingDirection(model);
    const unembedding = checkpointTensor(folder, tied ? 'model.embed_tokens.weight' : 'lm_head.weight')!;
    const dModel = unembedding.shape[1]!;
    const tokenizer = model.tokenizer.tokenizer;
    const meanOf = async (words: string[]) => {
      const mean = new Float64Array(dModel);
      const encoded = await tokenizer.encodeBatch(words, { addSpecialTokens: false });
      for (const ids of encoded)
        for (const id of ids)
          for (let d = 0; d < dModel; d++) mean[d]! += unembedding.data[id * dModel + d]! / ids.length / words.length;
      return mean;
    };
    const toxic = await meanOf(defaultToxicWords);
    const clean = await meanOf(defaultNonToxicWords);
    direction.forEach((value, d) => expect(value).toBeCloseTo(toxic[d]! - clean[d]!, 6));
  });
});
