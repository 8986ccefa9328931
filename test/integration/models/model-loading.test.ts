// Model references and broken model folders: each refusal names the problem and says what to do.

import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDecoderSession } from '../../../src-main/core/models/decoder/open-session.ts';
import { loadModel, type LoadedDecoderModel } from '../../../src-main/core/models/load-model.ts';
import { resolveCachedRepo } from '../../../src-main/core/models/model-ref.ts';
import { tinyDecoderFolder } from '../../support/decoder-fixtures.ts';
import { gpt2FixtureDir, tinyGpt2Folder, useTemporaryDataDir } from '../../support/gpt2-fixtures.ts';
import { raisedBy as failure } from '../../support/app-error.ts';

function editConfig(folder: string, change: (config: Record<string, unknown>) => void): void {
  const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
  change(config);
  writeFileSync(join(folder, 'config.json'), JSON.stringify(config));
}

describe('loading models', () => {
  it('resolves org/name in a Hugging Face cache through refs/main', () => {
    const cache = mkdtempSync(join(os.tmpdir(), 'toxscope-hf-'));
    const snapshot = join(cache, 'models--openai-community--gpt2', 'snapshots', 'abc123');
    mkdirSync(snapshot, { recursive: true });
    mkdirSync(join(cache, 'models--openai-community--gpt2', 'refs'));
    writeFileSync(join(cache, 'models--openai-community--gpt2', 'refs', 'main'), 'abc123\n');
    expect(resolveCachedRepo('openai-community/gpt2', cache)).toBe(snapshot);
    expect(resolveCachedRepo('someone/else', cache)).toBeNull();
  });

  it('refuses an unknown architecture and lists the supported ones', () => {
    const folder = tinyGpt2Folder('hub');
    editConfig(folder, (config) => (config.model_type = 'mamba'));
    const error = failure(() => loadModel(folder));
    expect(error.code).toBe('WEIGHTS_INVALID');
    expect(error.message).toMatch(/"mamba" model/);
    expect(error.hint).toMatch(/Supported architectures: gpt2, llama, mistral, qwen2, gemma2, bart/);
  });

  it('refuses a folder without tokenizer files and says which files are needed', () => {
    const folder = mkdtempSync(join(os.tmpdir(), 'toxscope-notok-'));
    copyFileSync(join(gpt2FixtureDir, 'hub', 'config.json'), join(folder, 'config.json'));
    copyFileSync(join(gpt2FixtureDir, 'hub', 'model.safetensors'), join(folder, 'model.safetensors'));
    const error = failure(() => loadModel(folder));
    expect(error.code).toBe('MODEL_NOT_FOUND');
    expect(error.message).toMatch(/no tokenizer\.json, vocab\.json \+ merges\.txt or vocab\.txt/);
  });

  it('names the tensor whose shape does not match config.json', () => {
    const folder = tinyGpt2Folder('hub');
    editConfig(folder, (config) => (config.n_inner = 48));
    const error = failure(() => loadModel(folder));
    expect(error.message).toMatch(
      /Tensor "h\.0\.mlp\.c_fc\.weight" .* has shape \[8, 32\], but config\.json implies \[8, 48\]/,
    );
  });

  it('names missing tensors by their checkpoint keys and says when config.json counts other layers', () => {
    const more = tinyDecoderFolder('mistral');
    editConfig(more, (config) => (config.num_hidden_layers = 3));
    const tooMany = failure(() => loadModel(more));
    expect(tooMany.message).toMatch(/lacks 9 Mistral tensors: model\.layers\.2\.input_layernorm\.weight, /);
    expect(tooMany.hint).toBe(
      "config.json describes 3 layers, but the weights hold 2: restore config.json from the original model, or pass that model's weights.",
    );
    const fewer = tinyDecoderFolder('mistral');
    editConfig(fewer, (config) => (config.num_hidden_layers = 1));
    const tooFew = failure(() => loadModel(fewer));
    expect(tooFew.message).toMatch(/has tensors a Mistral model does not have: model\.layers\.1\./);
    expect(tooFew.hint).toMatch(/^config\.json describes 1 layer, but the weights hold 2:/);
  });

  it('says to check tie_word_embeddings where an untied config meets weights without lm_head.weight', () => {
    const folder = tinyDecoderFolder('qwen2');
    editConfig(folder, (config) => (config.tie_word_embeddings = false));
    const error = failure(() => loadModel(folder));
    expect(error.message).toMatch(/lacks 1 Qwen2 tensor: lm_head\.weight\.$/);
    expect(error.hint).toMatch(/set tie_word_embeddings to true/);
  });

  it('refuses a folder without weights, pointing at --weights', () => {
    const folder = mkdtempSync(join(os.tmpdir(), 'toxscope-noweights-'));
    copyFileSync(join(gpt2FixtureDir, 'hub', 'config.json'), join(folder, 'config.json'));
    const tokenizerSource = tinyGpt2Folder('hub');
    for (const file of ['vocab.json', 'merges.txt']) copyFileSync(join(tokenizerSource, file), join(folder, file));
    expect(failure(() => loadModel(folder)).hint).toMatch(/--weights FILE/);
  });

  it('refuses an org/name that is not in the cache without going online', () => {
    process.env.HF_HUB_CACHE = mkdtempSync(join(os.tmpdir(), 'toxscope-emptycache-'));
    const error = failure(() => loadModel('openai-community/gpt2-medium'));
    expect(error.code).toBe('MODEL_NOT_FOUND');
    expect(error.hint).toMatch(/never downloads/);
    delete process.env.HF_HUB_CACHE;
  });

  it('looks a bare name such as gpt2 up in the cache, and says where it looked and how to get it there', () => {
    const home = mkdtempSync(join(os.tmpdir(), 'toxscope-hfhome-'));
    const saved = { HF_HUB_CACHE: process.env.HF_HUB_CACHE, HF_HOME: process.env.HF_HOME };
    delete process.env.HF_HUB_CACHE;
    process.env.HF_HOME = home;
    try {
      const error = failure(() => loadModel('gpt2'));
      expect(error.code).toBe('MODEL_NOT_FOUND');
      expect(error.message).toContain(
        `"gpt2" was looked up in the local Hugging Face cache (${join(home, 'hub')}) and is not there`,
      );
      expect(error.message).toContain(join(home, 'hub', 'models--gpt2'));
      expect(error.message).not.toMatch(/^No model folder/);
      expect(error.hint).toMatch(/huggingface-cli download gpt2/);
      expect(error.hint).toMatch(/HF_HOME/);

      // The same name, once its cache folder is copied in, resolves (legacy repo ids have no org).
      const snapshot = join(home, 'hub', 'models--gpt2', 'snapshots', 'rev1');
      mkdirSync(snapshot, { recursive: true });
      const source = tinyGpt2Folder('hub');
      for (const file of ['config.json', 'vocab.json', 'merges.txt', 'model.safetensors'])
        copyFileSync(join(source, file), join(snapshot, file));
      expect(loadModel('gpt2').resolved).toMatchObject({ folder: snapshot, source: 'hf-cache' });
    } finally {
      for (const [key, value] of Object.entries(saved))
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
    }
  });

  it('calls a missing weights file a missing file, not a cache miss', () => {
    const error = failure(() => loadModel('dpo-missing.pt'));
    expect(error.message).toMatch(/^No weights file at .*dpo-missing\.pt\.$/);
  });

  it('builds a graph of its own for the same weights under another config.json', async () => {
    useTemporaryDataDir();
    const original = tinyDecoderFolder('gemma2');
    const edited = tinyDecoderFolder('gemma2'); // the same weight files, byte for byte
    editConfig(edited, (config) => {
      config.final_logit_softcapping = null;
      config.query_pre_attn_scalar = 16;
    });
    const logitsOf = async (folder: string) => {
      const model = loadModel(folder) as LoadedDecoderModel;
      const device = { requested: 'cpu' as const, used: 'cpu' as const, note: '' };
      const options = {
        hooks: [],
        hookPositions: 'last' as const,
        logits: 'all' as const,
        kvCache: false,
        interventions: false,
      };
      const { session, graph } = await openDecoderSession(model, options, { device, threads: 1, batch: 1, length: 6 });
      const ids = [2, 17, 240, 5, 99, 31];
      const outputs = await session.step({
        batch: 1,
        pos: ids.length,
        inputIds: BigInt64Array.from(ids, BigInt),
        attentionMask: new BigInt64Array(ids.length).fill(1n),
        positionIds: BigInt64Array.from(ids.keys(), BigInt),
        cache: null,
      });
      await session.release();
      return { graph: graph.modelPath, logits: Array.from(outputs.outputs.logits!.data as Float32Array) };
    };
    const before = await logitsOf(original);
    const after = await logitsOf(edited);
    expect(after.graph).not.toBe(before.graph);
    // Gemma-2's final soft-cap of 3 keeps every logit inside ±3; without it they spread further.
    expect(Math.max(...before.logits.map(Math.abs))).toBeLessThan(3);
    expect(after.logits).not.toEqual(before.logits);
  });
});
