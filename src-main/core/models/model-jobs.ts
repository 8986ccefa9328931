// The model jobs behind `inspect`, `tokenize`, `activations` and `generate` (cli.md §1–4), for every front door,
// the inspection of a toxicity classifier, and the catalogue of models found in the Hugging Face cache.

import os from 'node:os';
import {
  matchHookNames,
  decoderHookNames,
  raise,
  type ActivationsRequest,
  type ActivationsResult,
  type ClassifierInspection,
  type ClassifierSelection,
  type GeneratedToken,
  type GenerateRequest,
  type GraphCacheCleared,
  type GenerateResult,
  type ModelCatalogue,
  type ModelInspection,
  type ModelSelection,
  type DeviceReport,
  type Tokenization,
  type TokenizeRequest,
} from '../../shared/index.ts';
import { throwIfCancelled, type Job } from '../jobs/job.ts';
import { resolveDevice, type Tensor } from '../runtime/onnxruntime.ts';
import { writeSafetensors, type WritableTensor } from '../weights/safetensors.ts';
import { storedDtype } from '../weights/state-dict.ts';
import { generate } from './decoder/generate.ts';
import { openDecoderSession } from './decoder/open-session.ts';
import { loadTokenizer } from '../tokenizer/load-tokenizer.ts';
import { readModelConfig } from './architectures.ts';
import { toxicityLabel } from './classifier/classifier-text.ts';
import { loadClassifier } from './classifier/load-classifier.ts';
import { BartSession } from './bart/bart-session.ts';
import { bartHookNames } from './bart/graph.ts';
import {
  bosTokenIdOf,
  loadAnyModel,
  loadModel,
  type AnyLoadedModel,
  type LoadedBartModel,
  type LoadedModel,
} from './load-model.ts';
import { clearGraphCache, graphCacheUsage } from './graph-cache.ts';
import { huggingFaceCacheDir, listCachedModels, resolveModelRef } from './model-ref.ts';
import { assertGenerationFits, positionsKeyOf } from './position-limit.ts';

export const inspectJob: Job<ModelSelection, never, ModelInspection> = async (request) => {
  const model = loadAnyModel(request.model, request.weights);
  const { tokenizer, stateDict } = model;
  const heads =
    model.architecture === 'bart'
      ? { nHeads: model.config.encoderHeads }
      : { nHeads: model.config.nHeads, nKvHeads: model.config.nKvHeads, headDim: model.config.dHead };
  return {
    architecture: model.architecture,
    nLayers:
      model.architecture === 'bart'
        ? { encoder: model.config.encoderLayers, decoder: model.config.decoderLayers }
        : model.config.nLayers,
    dModel: model.config.dModel,
    dMlp: model.config.dMlp,
    ...heads,
    dVocab: model.config.dVocab,
    nCtx: model.config.nCtx,
    parameters: model.parameters,
    tokenizer: { kind: tokenizer.format, vocabSize: tokenizer.tokenizer.vocabSize },
    weights: {
      format: stateDict.format,
      files: stateDict.files,
      sha256: model.fingerprint(),
      dtype: storedDtype(stateDict),
    },
  };
};

/** A toxicity classifier's shape, labels and fingerprint (the Models page's classifier rows); no session is opened. */
export const inspectClassifierJob: Job<ClassifierSelection, never, ClassifierInspection> = async (request) => {
  const model = loadClassifier(request.model, { tokenizerFolder: request.tokenizer });
  const { config } = model;
  return {
    architecture: config.architecture,
    format: model.format,
    nLayers: config.nLayers,
    dModel: config.dModel,
    nHeads: config.nHeads,
    dVocab: config.dVocab,
    maxTokens: config.maxTokens,
    labels: model.labels,
    activation: model.activation,
    toxicityLabel: toxicityLabel(model.labels),
    parameters: model.parameters,
    weights: { files: model.stateDict.files, sha256: model.fingerprint() },
  };
};

/** Tokenising needs only config.json and the tokenizer files, not the weights. */
export const tokenizeJob: Job<TokenizeRequest, never, Tokenization> = async (request) => {
  const { folder } = resolveModelRef(request.model);
  const { tokenizer } = loadTokenizer(folder, readModelConfig(folder).architecture);
  const ids = await tokenizer.encode(request.text);
  return { ids, tokens: tokenizer.tokens(ids) };
};

function bosTokenId(model: LoadedModel): number {
  const id = bosTokenIdOf(model);
  return id ?? raise('INPUT_INVALID', `${model.resolved.reference} defines no BOS token.`, 'Leave out --prepend-bos.');
}

/** Refuses ids outside the vocabulary, and a prompt that with `newTokens` to generate overruns the positions. */
export function checkIds(model: AnyLoadedModel, ids: number[], newTokens: number): void {
  const { dVocab, nCtx } = model.config;
  const bad = ids.find((id) => id >= dVocab);
  if (bad !== undefined)
    raise(
      'INPUT_INVALID',
      `Token id ${bad} is outside the vocabulary (0..${dVocab - 1}).`,
      "Pass ids from this model's tokenizer (`toxscope tokenize`).",
    );
  if (newTokens > 0)
    return assertGenerationFits([model], { number: 1, tokens: ids.length }, newTokens, { prompts: 'one' });
  if (ids.length > nCtx)
    raise(
      'INPUT_INVALID',
      `The input is ${ids.length} tokens, but ${model.resolved.reference} has ${nCtx} positions (${positionsKeyOf(model)} in its config.json).`,
      `Shorten the text to at most ${nCtx} tokens.`,
    );
}

/** Runs one forward pass and returns the requested hooks ([pos, width], batch dropped) and logits. */
export async function decoderActivations(
  model: LoadedModel,
  ids: number[],
  names: string[],
  device: DeviceReport,
  threads: number | undefined,
): Promise<WritableTensor[]> {
  const hooks = names.filter((name) => name !== 'logits');
  const { session } = await openDecoderSession(
    model,
    {
      hooks,
      hookPositions: 'all',
      logits: names.includes('logits') ? 'all' : 'none',
      kvCache: false,
      interventions: false,
    },
    { device, threads, batch: 1, length: ids.length, once: true },
  );
  try {
    const pos = ids.length;
    const { outputs } = await session.step({
      batch: 1,
      pos,
      inputIds: BigInt64Array.from(ids, BigInt),
      attentionMask: new BigInt64Array(pos).fill(1n),
      positionIds: BigInt64Array.from({ length: pos }, (_, p) => BigInt(p)),
      cache: null,
    });
    return batchlessTensors(names, outputs);
  } finally {
    await session.release();
  }
}

/** The named outputs of a batch-1 run as float32 tensors to write, the batch dimension dropped. */
function batchlessTensors(names: string[], outputs: Record<string, Tensor>): WritableTensor[] {
  return names.map((name) => ({
    name,
    dtype: 'F32' as const,
    shape: outputs[name]!.dims.slice(1),
    data: outputs[name]!.data as Float32Array,
  }));
}

/** BART: the encoder over the ids, then the teacher-forced decoder on them shifted right after decoder_start (as HF). */
async function bartActivations(
  model: LoadedBartModel,
  ids: number[],
  names: string[],
  device: DeviceReport,
  threads: number | undefined,
): Promise<WritableTensor[]> {
  const session = await BartSession.open(model, {
    decoder: {
      hooks: names.filter((name) => name.startsWith('decoder.')),
      hookPositions: 'all',
      logits: names.includes('logits') ? 'all' : 'last',
      kvCache: false,
    },
    encoderHooks: names.filter((name) => name.startsWith('encoder.')),
    device,
    threads,
    batch: 1,
    length: ids.length,
  });
  try {
    const encoded = await session.encode([ids]);
    const shifted = [model.config.decoderStartTokenId, ...ids.slice(0, -1)];
    const outputs = await session.decode(encoded, BigInt64Array.from(shifted, BigInt), shifted.length, 0);
    return batchlessTensors(names, { ...encoded.outputs, ...outputs });
  } finally {
    await session.release();
  }
}

export const activationsJob: Job<ActivationsRequest, never, ActivationsResult> = async (request, context) => {
  context.progress({ done: 0, total: 3, message: 'Loading the model' });
  const model = loadAnyModel(request.model, request.weights);
  const tokenizer = model.tokenizer.tokenizer;
  let ids = request.ids ?? (await tokenizer.encode(request.text ?? ''));
  const bos = bosTokenIdOf(model);
  if (request.prependBos) {
    if (bos === null)
      raise('INPUT_INVALID', `${model.resolved.reference} defines no BOS token.`, 'Leave out --prepend-bos.');
    if (ids[0] !== bos) ids = [bos, ...ids]; // the tokenizer may have added it already (Llama, Mistral, Gemma)
  }
  if (ids.length === 0) raise('INPUT_INVALID', 'The text has no tokens.', 'Pass a non-empty --text, or --prepend-bos.');
  checkIds(model, ids, 0);
  const available =
    model.architecture === 'bart'
      ? [...bartHookNames(model.config), 'logits']
      : decoderHookNames(model.config.nLayers, model.config.mlp.kind === 'gated');
  const defaults =
    model.architecture === 'bart'
      ? ['encoder.blocks.*.mlp.hook_post', 'decoder.blocks.*.mlp.hook_post', 'logits']
      : ['blocks.*.mlp.hook_post', 'logits'];
  const { names, unmatched } = matchHookNames(available, request.hooks ?? defaults);
  if (unmatched.length > 0) {
    const forms =
      model.architecture === 'bart'
        ? `encoder.blocks.{0..${model.config.encoderLayers - 1}}.mlp.hook_post, decoder.blocks.{0..${model.config.decoderLayers - 1}}.mlp.hook_post, logits`
        : model.config.mlp.kind === 'gated'
          ? `hook_embed, blocks.{0..${model.config.nLayers - 1}}.{hook_resid_pre, hook_attn_out, hook_resid_mid, mlp.hook_pre, mlp.hook_pre_linear, mlp.hook_post, hook_mlp_out, hook_resid_post}, ln_final.hook_normalized, logits`
          : `blocks.{0..${model.config.nLayers - 1}}.{hook_resid_pre, hook_attn_out, hook_resid_mid, mlp.hook_pre, mlp.hook_post, hook_mlp_out, hook_resid_post}, ln_final.hook_normalized, logits`;
    raise(
      'INPUT_INVALID',
      `No hook matches ${unmatched.map((pattern) => `"${pattern}"`).join(', ')}.`,
      `Hooks of this model: ${forms}; * matches within one segment.`,
    );
  }
  throwIfCancelled(context.signal);
  context.progress({ done: 1, total: 3, message: `Running ${ids.length} tokens` });
  const device = await resolveDevice(request.device);
  const tensors: WritableTensor[] =
    model.architecture === 'bart'
      ? await bartActivations(model, ids, names, device, request.threads)
      : await decoderActivations(model, ids, names, device, request.threads);
  tensors.push({ name: 'input_ids', dtype: 'I64', shape: [ids.length], data: BigInt64Array.from(ids, BigInt) });
  writeSafetensors(request.out, tensors, {
    producer: 'toxscope',
    model: request.model,
    ...(request.weights ? { weights: request.weights } : {}),
    device: device.used,
  });
  context.progress({ done: 3, total: 3, message: `Wrote ${request.out}` });
  return { out: request.out, device, tensors: tensors.map(({ name, dtype, shape }) => ({ name, dtype, shape })) };
};

export const generateJob: Job<GenerateRequest, GeneratedToken, GenerateResult> = async (request, context) => {
  const model = loadModel(request.model, request.weights);
  const tokenizer = model.tokenizer.tokenizer;
  let promptIds = await tokenizer.encode(request.prompt);
  if (promptIds.length === 0) promptIds = [bosTokenId(model)]; // unconditional generation starts from BOS
  checkIds(model, promptIds, request.maxNewTokens);
  const device = await resolveDevice(request.device);
  const { session } = await openDecoderSession(
    model,
    { hooks: [], hookPositions: 'last', logits: 'last', kvCache: true, interventions: false },
    { device, threads: request.threads, batch: 1, length: promptIds.length + request.maxNewTokens },
  );
  try {
    const ids: number[] = [];
    let text = '';
    const eosTokenId = model.config.eosTokenId ?? tokenizer.specialIds.eos;
    // Decoding is async and onStep is not awaited: each step's frame is sent from one chain, in step order, and the
    // job waits for the chain (which never rejects; its first error is kept) before it returns or fails.
    let frames = Promise.resolve();
    let frameError: unknown = null;
    try {
      await generate(session, [promptIds], {
        maxNewTokens: request.maxNewTokens,
        sampling: request.sampling,
        eosTokenId,
        padTokenId: eosTokenId ?? 0,
        useCache: true,
        signal: context.signal,
        onStep: ({ index, tokens }) => {
          const token = tokens[0]!;
          ids.push(token);
          const soFar = [...ids];
          frames = frames
            .then(async () => {
              const decoded = await tokenizer.decode(soFar, { skipSpecialTokens: true });
              // Stream only completed characters: a multi-byte character may span tokens.
              const stable = decoded.endsWith('\ufffd') ? decoded.slice(0, decoded.lastIndexOf('\ufffd')) : decoded;
              context.frame({ id: token, text: stable.slice(text.length) });
              if (stable.length > text.length) text = stable;
              context.progress({
                done: index + 1,
                total: request.maxNewTokens,
                message: `${index + 1} of ${request.maxNewTokens} tokens`,
              });
            })
            .catch((error: unknown) => {
              frameError ??= error;
            });
        },
      });
    } finally {
      await frames;
    }
    if (frameError !== null) throw frameError;
    return { promptIds, ids, text: await tokenizer.decode(ids, { skipSpecialTokens: true }), device };
  } finally {
    await session.release();
  }
};

export const catalogueJob: Job<Record<string, never>, never, ModelCatalogue> = async () => ({
  cacheFolder: huggingFaceCacheDir(),
  cached: listCachedModels(),
  memory: { totalBytes: os.totalmem(), freeBytes: os.freemem() },
  graphCache: graphCacheUsage(),
});

export const clearGraphCacheJob: Job<Record<string, never>, never, GraphCacheCleared> = async () => clearGraphCache();
