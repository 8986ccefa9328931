// One MLP neuron up close, in the base and the DPO model: the tokens its value vector promotes and suppresses
// (the value vector times the unembedding, which GPT-2 ties to the token embedding), its activation (post-GELU;
// act(gate)·up for gated MLPs) at every token of a prompt, and the run's prompts and continuations it fires on most.

import {
  raise,
  type NeuronDetail,
  type NeuronDetailRequest,
  type NeuronExample,
  type NeuronModelDetail,
  type NeuronRunExamples,
  type NeuronRunScan,
  type TokenScore,
} from '../../shared/index.ts';
import { throwIfCancelled, type Job } from '../jobs/job.ts';
import type { LoadedModel } from '../models/load-model.ts';
import { checkIds, decoderActivations } from '../models/model-jobs.ts';
import { readUnembedding, readValueVectors } from '../models/decoder/weights.ts';
import { openDecoderSession } from '../models/decoder/open-session.ts';
import { readGenerations } from '../results/generations.ts';
import { resolveDevice } from '../runtime/onnxruntime.ts';
import { loadModelPair } from './compare-models.ts';
import { promptIds } from './compare-job.ts';

/** Logit change per unit activation for every token: W_U [d_vocab, d_model] · v [d_model]. */
function directLogits(model: LoadedModel, value: Float32Array): Float64Array {
  const { dVocab, dModel } = model.config;
  const embedding = readUnembedding(model.weights, model.config); // [d_vocab, d_model]
  const logits = new Float64Array(dVocab);
  for (let token = 0; token < dVocab; token++) {
    let dot = 0;
    for (let d = 0; d < dModel; d++) dot += embedding[token * dModel + d]! * value[d]!;
    logits[token] = dot;
  }
  return logits;
}

/** Each token decoded on its own, as the explorer shows it (one tokenizer call for all). */
function decodeEach(model: LoadedModel, ids: number[]): Promise<string[]> {
  return model.tokenizer.tokenizer.decodeBatch(ids.map((id) => [id]));
}

async function topTokens(
  model: LoadedModel,
  logits: Float64Array,
  count: number,
  direction: 1 | -1,
): Promise<TokenScore[]> {
  const top = Array.from(logits.keys())
    .sort((a, b) => direction * (logits[b]! - logits[a]!))
    .slice(0, count);
  const texts = await decodeEach(model, top);
  return top.map((id, index) => ({ token: texts[index]!, logit: logits[id]! }));
}

async function modelDetail(
  model: LoadedModel,
  request: NeuronDetailRequest,
  ids: number[],
  device: Awaited<ReturnType<typeof resolveDevice>>,
): Promise<NeuronModelDetail> {
  const { dModel, dMlp } = model.config;
  const values = readValueVectors(model.weights, model.config, request.layer); // [d_mlp, d_model]
  const value = values.subarray(request.neuron * dModel, (request.neuron + 1) * dModel);
  const logits = directLogits(model, value);
  const hook = `blocks.${request.layer}.mlp.hook_post`;
  const [post] = await decoderActivations(model, ids, [hook], device, undefined); // [pos, d_mlp]
  const data = post!.data as Float32Array;
  return {
    promoted: await topTokens(model, logits, request.topTokens, 1),
    suppressed: await topTokens(model, logits, request.topTokens, -1),
    activations: ids.map((_, position) => data[position * dMlp + request.neuron]!),
    valueNorm: Math.hypot(...value),
  };
}

/** Sequences per forward pass when scanning a run (right-padded: causal attention keeps pads out of real tokens). */
const scanBatch = 8;

/** The neuron's activation at every token of each sequence: [sequences][pos], one session for all of them. */
async function neuronActivations(
  model: LoadedModel,
  sequences: number[][],
  layer: number,
  neuron: number,
  device: Awaited<ReturnType<typeof resolveDevice>>,
  signal: AbortSignal,
): Promise<number[][]> {
  const { dMlp } = model.config;
  const hook = `blocks.${layer}.mlp.hook_post`;
  const longest = Math.max(1, ...sequences.map((ids) => ids.length));
  const { session } = await openDecoderSession(
    model,
    { hooks: [hook], hookPositions: 'all', logits: 'none', kvCache: false, interventions: false },
    { device, batch: Math.min(scanBatch, sequences.length), length: longest, once: true },
  );
  const activations: number[][] = [];
  try {
    for (let start = 0; start < sequences.length; start += scanBatch) {
      throwIfCancelled(signal);
      const chunk = sequences.slice(start, start + scanBatch);
      const batch = chunk.length;
      const pos = Math.max(...chunk.map((ids) => ids.length));
      const inputIds = new BigInt64Array(batch * pos); // [batch, pos], pads are token 0 with mask 0
      const attentionMask = new BigInt64Array(batch * pos);
      const positionIds = new BigInt64Array(batch * pos);
      chunk.forEach((ids, row) =>
        ids.forEach((id, p) => {
          inputIds[row * pos + p] = BigInt(id);
          attentionMask[row * pos + p] = 1n;
          positionIds[row * pos + p] = BigInt(p);
        }),
      );
      const { outputs } = await session.step({ batch, pos, inputIds, attentionMask, positionIds, cache: null });
      const post = outputs[hook]!.data as Float32Array; // [batch, pos, d_mlp]
      for (const [row, ids] of chunk.entries())
        activations.push(ids.map((_, p) => post[(row * pos + p) * dMlp + neuron]!));
    }
  } finally {
    await session.release();
  }
  return activations;
}

/**
 * The run's prompts, each with the base's and with the DPO's continuation, scanned in both models: per model, the
 * examples of its own continuations on which it fires most, with the other model's activations on the same tokens.
 */
async function scanRun(
  models: { base: LoadedModel; dpo: LoadedModel },
  request: NeuronDetailRequest & { run: NeuronRunScan },
  device: Awaited<ReturnType<typeof resolveDevice>>,
  signal: AbortSignal,
): Promise<NeuronRunExamples> {
  const { base } = models;
  const rows = readGenerations(request.run.folder)
    .rows.slice(0, request.run.limit)
    .flatMap((row) => (row.kind === 'compare' ? [row] : []));
  const prompts = await promptIds(
    base,
    rows.map((row) => row.prompt),
    request.run.maxPromptTokens,
    request.prependBos,
  );
  const examples: NeuronRunExamples = { scanned: rows.length, base: [], dpo: [] };
  for (const side of ['base', 'dpo'] as const) {
    const continuations = await base.tokenizer.tokenizer.encodeBatch(
      rows.map((row) => row[side]),
      { addSpecialTokens: false },
    );
    // [prompts][pos]: the prompt's ids, then this side's continuation, cut to the positions the model has.
    const sequences = prompts.map((ids, index) => [...ids, ...continuations[index]!].slice(0, base.config.nCtx));
    const acts = {
      base: await neuronActivations(base, sequences, request.layer, request.neuron, device, signal),
      dpo: await neuronActivations(models.dpo, sequences, request.layer, request.neuron, device, signal),
    };
    const ranked = sequences
      .map((_, index) => ({ index, max: Math.max(...acts[side][index]!) }))
      .sort((a, b) => b.max - a.max || a.index - b.index)
      .slice(0, request.run.top);
    examples[side] = await Promise.all(
      ranked.map(async ({ index, max }): Promise<NeuronExample> => ({
        index,
        tokens: await decodeEach(base, sequences[index]!),
        promptTokens: Math.min(prompts[index]!.length, sequences[index]!.length),
        base: acts.base[index]!,
        dpo: acts.dpo[index]!,
        max,
      })),
    );
  }
  return examples;
}

export const neuronDetailJob: Job<NeuronDetailRequest, never, NeuronDetail> = async (request, context) => {
  const total = request.run ? 4 : 3;
  context.progress({ done: 0, total, message: 'Loading both models' });
  const { base, dpo } = loadModelPair(request.base, request.baseWeights, request.dpo);
  const { nLayers, dMlp } = base.config;
  if (request.layer >= nLayers || request.neuron >= dMlp)
    raise(
      'INPUT_INVALID',
      `There is no neuron L${request.layer} N${request.neuron}: the model has layers 0..${nLayers - 1} and neurons 0..${dMlp - 1}.`,
      'Pick a neuron from the explorer table.',
    );
  const ids = (await promptIds(base, [request.prompt], base.config.nCtx - 1, request.prependBos))[0]!;
  checkIds(base, ids, 0);
  const device = await resolveDevice(request.device);
  throwIfCancelled(context.signal);
  context.progress({ done: 1, total, message: 'Base model' });
  const baseDetail = await modelDetail(base, request, ids, device);
  throwIfCancelled(context.signal);
  context.progress({ done: 2, total, message: 'DPO model' });
  const dpoDetail = await modelDetail(dpo, request, ids, device);
  const run = request.run;
  if (run) context.progress({ done: 3, total, message: `Scanning the run's prompts (at most ${run.limit})` });
  const examples = run ? await scanRun({ base, dpo }, { ...request, run }, device, context.signal) : undefined;
  return {
    layer: request.layer,
    neuron: request.neuron,
    tokens: await decodeEach(base, ids),
    base: baseDetail,
    dpo: dpoDetail,
    ...(examples ? { examples } : {}),
  };
};
