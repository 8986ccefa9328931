// The model jobs behind `inspect`, `tokenize`, `activations` and `generate` (cli.md §1–4), for every front door.

import {
  matchHookNames,
  decoderHookNames,
  raise,
  type ActivationsRequest,
  type ActivationsResult,
  type GeneratedToken,
  type GenerateRequest,
  type GenerateResult,
  type ModelInspection,
  type ModelSelection,
  type Tokenization,
  type TokenizeRequest,
} from '../../shared/index.ts';
import { throwIfCancelled, type Job } from '../jobs/job.ts';
import { resolveDevice } from '../runtime/onnxruntime.ts';
import { writeSafetensors, type WritableTensor } from '../weights/safetensors.ts';
import { generate } from './gpt2/generate.ts';
import { openGpt2Session } from './gpt2/open-session.ts';
import { loadModel, type LoadedModel } from './load-model.ts';

export const inspectJob: Job<ModelSelection, never, ModelInspection> = async (request) => {
  const model = loadModel(request.model, request.weights);
  const { config, tokenizer, stateDict } = model;
  return {
    architecture: model.architecture,
    nLayers: config.nLayers,
    dModel: config.dModel,
    dMlp: config.dMlp,
    nHeads: config.nHeads,
    dVocab: config.dVocab,
    nCtx: config.nCtx,
    parameters: model.parameters,
    tokenizer: { kind: tokenizer.format, vocabSize: tokenizer.tokenizer.vocabSize },
    weights: { format: stateDict.format, files: stateDict.files, sha256: model.fingerprint() },
  };
};

export const tokenizeJob: Job<TokenizeRequest, never, Tokenization> = async (request) => {
  const { tokenizer } = loadModel(request.model, request.weights).tokenizer;
  const ids = tokenizer.encode(request.text);
  return { ids, tokens: tokenizer.tokens(ids) };
};

function bosTokenId(model: LoadedModel): number {
  const id = model.config.bosTokenId ?? model.tokenizer.tokenizer.spec.specialIds.bos;
  return id ?? raise('INPUT_INVALID', `${model.resolved.reference} defines no BOS token.`, 'Leave out --prepend-bos.');
}

function checkIds(model: LoadedModel, ids: number[], extraPositions: number): void {
  const { dVocab, nCtx } = model.config;
  const bad = ids.find((id) => id >= dVocab);
  if (bad !== undefined)
    raise(
      'INPUT_INVALID',
      `Token id ${bad} is outside the vocabulary (0..${dVocab - 1}).`,
      "Pass ids from this model's tokenizer (`toxscope tokenize`).",
    );
  if (ids.length + extraPositions > nCtx) {
    raise(
      'INPUT_INVALID',
      `The input is ${ids.length} tokens${extraPositions ? ` plus ${extraPositions} to generate` : ''}, more than the model's context of ${nCtx}.`,
      `Shorten the text to at most ${nCtx - extraPositions} tokens${extraPositions ? ' or generate fewer tokens' : ''}.`,
    );
  }
}

export const activationsJob: Job<ActivationsRequest, never, ActivationsResult> = async (request, context) => {
  context.progress({ done: 0, total: 3, message: 'Loading the model' });
  const model = loadModel(request.model, request.weights);
  let ids = request.ids ?? model.tokenizer.tokenizer.encode(request.text ?? '');
  if (request.prependBos) ids = [bosTokenId(model), ...ids];
  if (ids.length === 0) raise('INPUT_INVALID', 'The text has no tokens.', 'Pass a non-empty --text, or --prepend-bos.');
  checkIds(model, ids, 0);
  const available = decoderHookNames(model.config.nLayers);
  const patterns = request.hooks ?? ['blocks.*.mlp.hook_post', 'logits'];
  const { names, unmatched } = matchHookNames(available, patterns);
  if (unmatched.length > 0) {
    raise(
      'INPUT_INVALID',
      `No hook matches ${unmatched.map((pattern) => `"${pattern}"`).join(', ')}.`,
      `Hooks of this model: blocks.{0..${model.config.nLayers - 1}}.{hook_resid_pre, hook_attn_out, hook_resid_mid, mlp.hook_pre, mlp.hook_post, hook_mlp_out, hook_resid_post}, ln_final.hook_normalized, logits; * matches within one segment.`,
    );
  }
  throwIfCancelled(context.signal);
  context.progress({ done: 1, total: 3, message: 'Building the graph' });
  const device = await resolveDevice(request.device);
  const hooks = names.filter((name) => name !== 'logits');
  const { session } = await openGpt2Session(
    model,
    {
      hooks,
      hookPositions: 'all',
      logits: names.includes('logits') ? 'all' : 'none',
      kvCache: false,
      interventions: false,
    },
    { device, threads: request.threads, batch: 1, length: ids.length },
  );
  try {
    throwIfCancelled(context.signal);
    context.progress({ done: 2, total: 3, message: `Running ${ids.length} tokens` });
    const pos = ids.length;
    const { outputs } = await session.step({
      batch: 1,
      pos,
      inputIds: BigInt64Array.from(ids, BigInt),
      attentionMask: new BigInt64Array(pos).fill(1n),
      positionIds: BigInt64Array.from({ length: pos }, (_, p) => BigInt(p)),
      cache: null,
    });
    const tensors: WritableTensor[] = names.map((name) => {
      const output = outputs[name]!;
      return { name, dtype: 'F32', shape: output.dims.slice(1), data: output.data as Float32Array }; // batch dimension dropped
    });
    tensors.push({ name: 'input_ids', dtype: 'I64', shape: [pos], data: BigInt64Array.from(ids, BigInt) });
    writeSafetensors(request.out, tensors, {
      producer: 'toxscope',
      model: request.model,
      ...(request.weights ? { weights: request.weights } : {}),
      device: device.used,
    });
    context.progress({ done: 3, total: 3, message: `Wrote ${request.out}` });
    return { out: request.out, device, tensors: tensors.map(({ name, dtype, shape }) => ({ name, dtype, shape })) };
  } finally {
    await session.release();
  }
};

export const generateJob: Job<GenerateRequest, GeneratedToken, GenerateResult> = async (request, context) => {
  const model = loadModel(request.model, request.weights);
  const tokenizer = model.tokenizer.tokenizer;
  let promptIds = tokenizer.encode(request.prompt);
  if (promptIds.length === 0) promptIds = [bosTokenId(model)]; // unconditional generation starts from BOS
  checkIds(model, promptIds, request.maxNewTokens);
  const device = await resolveDevice(request.device);
  const { session } = await openGpt2Session(
    model,
    { hooks: [], hookPositions: 'last', logits: 'last', kvCache: true, interventions: false },
    { device, threads: request.threads, batch: 1, length: promptIds.length + request.maxNewTokens },
  );
  try {
    const ids: number[] = [];
    let text = '';
    const eosTokenId = model.config.eosTokenId ?? tokenizer.spec.specialIds.eos;
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
        const decoded = tokenizer.decode(ids, { skipSpecialTokens: true });
        // Stream only completed characters: a multi-byte character may span tokens.
        const stable = decoded.endsWith('\ufffd') ? decoded.slice(0, decoded.lastIndexOf('\ufffd')) : decoded;
        context.frame({ id: token, text: stable.slice(text.length) });
        if (stable.length > text.length) text = stable;
        context.progress({
          done: index + 1,
          total: request.maxNewTokens,
          message: `${index + 1} of ${request.maxNewTokens} tokens`,
        });
      },
    });
    return { promptIds, ids, text: tokenizer.decode(ids, { skipSpecialTokens: true }), device };
  } finally {
    await session.release();
  }
};
