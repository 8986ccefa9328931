// One MLP neuron up close, in the base and the DPO model: the tokens its value vector promotes and suppresses
// (the value vector times the unembedding, which GPT-2 ties to the token embedding) and its activation (post-GELU;
// act(gate)·up for gated MLPs) at
// every token of a prompt.

import {
  raise,
  type NeuronDetail,
  type NeuronDetailRequest,
  type NeuronModelDetail,
  type TokenScore,
} from '../../shared/index.ts';
import { throwIfCancelled, type Job } from '../jobs/job.ts';
import type { LoadedModel } from '../models/load-model.ts';
import { checkIds, decoderActivations } from '../models/model-jobs.ts';
import { readUnembedding, readValueVectors } from '../models/decoder/weights.ts';
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

export const neuronDetailJob: Job<NeuronDetailRequest, never, NeuronDetail> = async (request, context) => {
  context.progress({ done: 0, total: 3, message: 'Loading both models' });
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
  context.progress({ done: 1, total: 3, message: 'Base model' });
  const baseDetail = await modelDetail(base, request, ids, device);
  throwIfCancelled(context.signal);
  context.progress({ done: 2, total: 3, message: 'DPO model' });
  const dpoDetail = await modelDetail(dpo, request, ids, device);
  return {
    layer: request.layer,
    neuron: request.neuron,
    tokens: await decodeEach(base, ids),
    base: baseDetail,
    dpo: dpoDetail,
  };
};
