// One MLP neuron up close, in the base and the DPO model: the tokens its value vector promotes and suppresses
// (the value vector times the unembedding, which GPT-2 ties to the token embedding) and its post-GELU activation at
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
import { checkIds, gpt2Activations } from '../models/model-jobs.ts';
import { resolveDevice } from '../runtime/onnxruntime.ts';
import { loadModelPair } from './compare-models.ts';
import { promptIds } from './compare-job.ts';

/** Logit change per unit activation for every token: W_E [d_vocab, d_model] · v [d_model]. */
function directLogits(model: LoadedModel, value: Float32Array): Float64Array {
  const { dVocab, dModel } = model.config;
  const embedding = model.weights.get('embed.W_E')!.read(); // [d_vocab, d_model]
  const logits = new Float64Array(dVocab);
  for (let token = 0; token < dVocab; token++) {
    let dot = 0;
    for (let d = 0; d < dModel; d++) dot += embedding[token * dModel + d]! * value[d]!;
    logits[token] = dot;
  }
  return logits;
}

function topTokens(model: LoadedModel, logits: Float64Array, count: number, direction: 1 | -1): TokenScore[] {
  const order = Array.from(logits.keys()).sort((a, b) => direction * (logits[b]! - logits[a]!));
  return order.slice(0, count).map((id) => ({ token: model.tokenizer.tokenizer.decode([id]), logit: logits[id]! }));
}

async function modelDetail(
  model: LoadedModel,
  request: NeuronDetailRequest,
  ids: number[],
  device: Awaited<ReturnType<typeof resolveDevice>>,
): Promise<NeuronModelDetail> {
  const { dModel, dMlp } = model.config;
  const wOut = model.weights.get(`blocks.${request.layer}.mlp.W_out`)!.read(); // [d_mlp, d_model]
  const value = wOut.subarray(request.neuron * dModel, (request.neuron + 1) * dModel);
  const logits = directLogits(model, value);
  const hook = `blocks.${request.layer}.mlp.hook_post`;
  const [post] = await gpt2Activations(model, ids, [hook], device, undefined); // [pos, d_mlp]
  const data = post!.data as Float32Array;
  return {
    promoted: topTokens(model, logits, request.topTokens, 1),
    suppressed: topTokens(model, logits, request.topTokens, -1),
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
  const ids = promptIds(base, request.prompt, base.config.nCtx - 1, request.prependBos);
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
    tokens: ids.map((id) => base.tokenizer.tokenizer.decode([id])),
    base: baseDetail,
    dpo: dpoDetail,
  };
};
