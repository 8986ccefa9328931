// The CLI contract's decoder-LLM additions (cli.md "Decoder LLMs") as users run them: the real `toxscope` process
// on the tiny Llama, Mistral, Qwen2 and Gemma-2 checkpoints — inspect's fields and Hugging Face's parameter count,
// activations against the PyTorch goldens, compare with planted gated neurons, probe train, compare and every
// intervention form per family, and every refusal with exit 3.

import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../../src-main/core/files/csv.ts';
import { loadAnyModel, loadModel } from '../../../src-main/core/models/load-model.ts';
import { encodeSafetensors, openSafetensors } from '../../../src-main/core/weights/safetensors.ts';
import { requireBuild } from '../../support/built-app.ts';
import { describeMismatch } from '../../support/check-tensor.ts';
import { runToxscope } from '../../support/cli.ts';
import { decoderFixtureDir, decoderGolden, tinyDecoderFolder, copyTokenizer } from '../../support/decoder-fixtures.ts';
import { tinyBartFixture } from '../../support/bart-fixtures.ts';

const dataDir = mkdtempSync(join(os.tmpdir(), 'toxscope-cli-decoder-'));
const toxscope = (...args: string[]) => runToxscope(dataDir, ...args);
const scratch = () => mkdtempSync(join(os.tmpdir(), 'toxscope-cli-decoder-out-'));

function editConfig(folder: string, edit: (config: Record<string, unknown>) => void): void {
  const path = join(folder, 'config.json');
  const config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  edit(config);
  writeFileSync(path, JSON.stringify(config));
}

/** The gated MLP neurons of layer 1 that plantedDpo changes. */
const planted = [3, 11, 20];

/**
 * A DPO side for a single-file checkpoint: the base weights with the gate rows of the planted neurons of layer 1
 * halved (gate_proj is [d_mlp, d_model]: row i is neuron i's gate). Returns the written file.
 */
function plantedDpo(folder: string, dir: string): string {
  const file = openSafetensors(join(folder, 'model.safetensors'));
  const tensors = [...file.tensors.values()].map((entry) => {
    const data = file.readFloat32(entry.name);
    if (entry.name === 'model.layers.1.mlp.gate_proj.weight')
      for (const neuron of planted)
        for (let d = 0; d < entry.shape[1]!; d++) data[neuron * entry.shape[1]! + d]! *= 0.5;
    return { name: entry.name, dtype: 'F32' as const, shape: entry.shape, data };
  });
  const path = join(dir, 'planted.safetensors');
  writeFileSync(path, encodeSafetensors(tensors));
  return path;
}

/** Three short prompts, one per line. */
function writePrompts(dir: string): string {
  const path = join(dir, 'prompts.txt');
  writeFileSync(path, 'the cat sat on the mat\nwhy is this so\nhello there friend\n');
  return path;
}

beforeAll(() => {
  requireBuild();
});

describe('inspect on the decoder families', () => {
  it.each([
    // [variant, architecture, heads, kv heads, head size, tied, stored dtype, files]
    [
      'llama3',
      'llama',
      4,
      2,
      8,
      false,
      'bfloat16',
      ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'],
    ],
    ['llama2', 'llama', 4, 4, 4, false, 'float32', ['pytorch_model.bin']],
    ['mistral', 'mistral', 4, 1, 8, false, 'float16', ['model.safetensors']],
    ['qwen2', 'qwen2', 4, 2, 4, true, 'float32', ['model.safetensors']],
    ['gemma2', 'gemma2', 4, 2, 16, true, 'bfloat16', ['model.safetensors']],
  ] as const)(
    '%s: architecture, grouped heads, dtype, every shard, parameters as num_parameters()',
    (variant, architecture, nHeads, nKvHeads, headDim, tied, dtype, files) => {
      const folder = tinyDecoderFolder(variant);
      const run = toxscope('inspect', folder);
      expect(run.status, run.stderr).toBe(0);
      const inspection = JSON.parse(run.stdout) as {
        nLayers: number;
        dModel: number;
        dMlp: number;
        dVocab: number;
        parameters: number;
        weights: { files: string[]; dtype: string };
      };
      expect(inspection).toMatchObject({ architecture, nHeads, nKvHeads, headDim, dVocab: 320, weights: { dtype } });
      expect(inspection.weights.files.map((file) => file.split('/').at(-1))).toEqual(files);
      // Hugging Face counts each parameter once: a tied lm_head is the embedding; rotary inv_freq is a buffer.
      const { nLayers, dModel: d, dMlp, dVocab } = inspection;
      const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
      const biases =
        (config.attention_bias ? (nHeads + 2 * nKvHeads) * headDim + d : 0) +
        (variant === 'qwen2' ? (nHeads + 2 * nKvHeads) * headDim : 0);
      const mlpBiases = config.mlp_bias ? 2 * dMlp + d : 0;
      const norms = variant === 'gemma2' ? 4 * d : 2 * d;
      const perLayer = d * (2 * nHeads + 2 * nKvHeads) * headDim + 3 * d * dMlp + norms + biases + mlpBiases;
      expect(inspection.parameters).toBe(dVocab * d * (tied ? 1 : 2) + nLayers * perLayer + d);
    },
  );

  it('does not count BART’s final_logits_bias buffer as a parameter', () => {
    const run = toxscope('inspect', tinyBartFixture('bart-tiny'));
    expect(run.status, run.stderr).toBe(0);
    const inspection = JSON.parse(run.stdout) as { parameters: number; dVocab: number };
    const model = loadAnyModel(tinyBartFixture('bart-tiny'));
    let all = 0;
    for (const tensor of model.weights.values()) all += tensor.shape.reduce((a, b) => a * b, 1);
    expect(model.weights.has('final_logits_bias')).toBe(true);
    expect(inspection.parameters).toBe(all - inspection.dVocab);
  });
});

describe('activations and compare on the decoder families', () => {
  it.each(['llama3', 'gemma2'] as const)(
    '%s: activations of --ids equal the PyTorch golden for every hook',
    (variant) => {
      const golden = decoderGolden(variant);
      const ids = Array.from(golden.readInt64('prompt0.input_ids'), Number);
      const out = join(scratch(), 'acts.safetensors');
      const run = toxscope(
        'activations',
        tinyDecoderFolder(variant),
        '--ids',
        ids.join(','),
        '--out',
        out,
        '--hooks',
        '*,blocks.*.*,blocks.*.mlp.*,ln_final.*',
      );
      expect(run.status, run.stderr).toBe(0);
      const written = openSafetensors(out);
      const names = [...written.tensors.keys()].filter((name) => name !== 'input_ids');
      expect(names).toContain('blocks.1.mlp.hook_pre_linear');
      expect(names).toContain('hook_embed');
      const problems = names
        .map((name) => describeMismatch(name, written.readFloat32(name), golden.readFloat32(`prompt0.${name}`), 1e-4))
        .filter(Boolean);
      expect(problems).toEqual([]);
    },
  );

  it.each(['llama-linear', 'qwen2'] as const)(
    '%s: compare finds planted gated neurons (gate rows halved) at the top and moves nothing else',
    (variant) => {
      const folder = tinyDecoderFolder(variant);
      const dir = scratch();
      const dpo = plantedDpo(folder, dir);
      const probe = join(dir, 'probe.json');
      writeFileSync(probe, JSON.stringify(Array.from({ length: 16 }, (_, index) => Math.sin(index + 1))));
      const prompts = writePrompts(dir);
      const out = join(dir, 'compare');
      const run = toxscope(
        'compare',
        '--base',
        folder,
        '--dpo',
        dpo,
        '--probe',
        probe,
        '--prompts',
        prompts,
        '--max-new-tokens',
        '1',
        '--out',
        out,
        '--quiet',
      );
      expect(run.status, run.stderr).toBe(0);
      const rows = parseCsv(readFileSync(join(out, 'neurons.csv'), 'utf8')).map((entry) => entry.record);
      const header = rows[0]!;
      const deltaAct = rows.slice(1).map((row) => Number(row[header.indexOf('delta_act')]));
      expect(deltaAct).toHaveLength(2 * 40);
      deltaAct.forEach((delta, index) => {
        const layer = Math.floor(index / 40);
        if (layer === 1 && planted.includes(index % 40)) expect(Math.abs(delta)).toBeGreaterThan(1e-4);
        else expect(delta, `neuron ${index}`).toBe(0);
      });
      // Ranked by how much DPO moved their projection on the probe, the planted neurons come first.
      const delta = header.indexOf('delta');
      const ranked = rows
        .slice(1)
        .map((row) => ({ neuron: `${row[0]}.${row[1]}`, moved: Math.abs(Number(row[delta])) }))
        .sort((a, b) => b.moved - a.moved);
      expect(
        ranked
          .slice(0, 3)
          .map((entry) => entry.neuron)
          .sort(),
      ).toEqual(planted.map((neuron) => `1.${neuron}`).sort());
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { prompts: number };
      expect(summary.prompts).toBe(3);
    },
  );
});

describe('probe train, compare and every intervention on Llama, Mistral and Gemma-2', () => {
  it.each(['llama3', 'mistral', 'gemma2'] as const)('%s', (variant) => {
    const folder = tinyDecoderFolder(variant);
    const dir = scratch();
    // llama3 is sharded: its DPO side is the fixture's DPO trainer file ({"state": …} .pt).
    const dpo = variant === 'llama3' ? join(decoderFixtureDir, 'llama3', 'dpo.pt') : plantedDpo(folder, dir);
    const rows = ['text,label'];
    for (let index = 0; index < 40; index++)
      rows.push(index % 2 ? `"you are an idiot and a fool ${index}",1` : `"what a lovely sunny day ${index}",0`);
    writeFileSync(join(dir, 'data.csv'), rows.join('\n') + '\n');
    const probe = join(dir, 'probe.safetensors');
    const train = toxscope(
      'probe',
      'train',
      '--model',
      folder,
      '--data',
      join(dir, 'data.csv'),
      '--text-column',
      'text',
      '--label-column',
      'label',
      '--out',
      probe,
    );
    expect(train.status, train.stderr).toBe(0);
    // Yang et al.'s probe reads the last hidden state: the final norm's output on these families.
    expect(JSON.parse(readFileSync(`${probe}.json`, 'utf8'))).toMatchObject({ hook: 'ln_final.hook_normalized' });

    const prompts = writePrompts(dir);
    const compareDir = join(dir, 'compare');
    const compare = toxscope(
      'compare',
      '--base',
      folder,
      '--dpo',
      dpo,
      '--probe',
      probe,
      '--prompts',
      prompts,
      '--max-new-tokens',
      '3',
      '--out',
      compareDir,
      '--quiet',
    );
    expect(compare.status, compare.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(compareDir, 'summary.json'), 'utf8')) as Record<string, unknown>;
    // Gemma-2's post-feed-forward norm sits between m·v and the residual stream (docs/analysis.md).
    expect(summary).toMatchObject({
      prompts: 3,
      neuronContribution: variant === 'gemma2' ? 'before-post-feedforward-norm' : 'exact',
    });
    const neurons = parseCsv(readFileSync(join(compareDir, 'neurons.csv'), 'utf8')).map((entry) => entry.record);
    const deltaAct = neurons[0]!.indexOf('delta_act');
    expect(neurons.slice(1).filter((row) => Number(row[deltaAct]) !== 0).length).toBeGreaterThan(0);
    const group = neurons[0]!.indexOf('group');
    const inGroups = (groups: string[]) => neurons.slice(1).filter((row) => groups.includes(row[group]!)).length;

    writeFileSync(join(dir, 'patch.csv'), 'layer,neuron,value\n1,3,0.5\n0,7,-1\n');
    for (const [spec, neurons] of [
      [`ablate:top=4,positive=${compareDir}`, (count: number) => count <= 4],
      [`patch:csv=${join(dir, 'patch.csv')}`, (count: number) => count === 2],
      [`patch:groups=TP-+AN-,from=${compareDir}`, (count: number) => count === inGroups(['TP-', 'AN-'])],
      ['subtract:alpha=2', (count: number) => count === 0],
      ['subtract:alpha=2,layer=0', (count: number) => count === 0],
    ] as const) {
      const out = join(dir, `intervene-${spec.split(':')[0]}-${spec.length}`);
      const run = toxscope(
        'intervene',
        '--model',
        folder,
        '--probe',
        probe,
        '--prompts',
        prompts,
        '--intervention',
        spec,
        '--max-new-tokens',
        '3',
        '--out',
        out,
        '--quiet',
      );
      expect(run.status, `${spec}: ${run.stderr}`).toBe(0);
      const result = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
        prompts: number;
        toxicity: { probe: number };
        intervention: { spec: string; neurons: number };
      };
      expect(result.prompts, spec).toBe(3);
      expect(Number.isFinite(result.toxicity.probe), spec).toBe(true);
      expect(result.intervention.spec).toBe(spec);
      expect(neurons(result.intervention.neurons), `${spec}: ${result.intervention.neurons} neurons`).toBe(true);
      expect(readFileSync(join(out, 'generations.jsonl'), 'utf8').trim().split('\n')).toHaveLength(3);
    }
  });
});

describe('decoder checkpoints that are refused with exit 3', () => {
  it('an unsupported rope_scaling type, naming the supported ones', () => {
    const folder = tinyDecoderFolder('llama3');
    editConfig(folder, (config) => (config.rope_scaling = { rope_type: 'yarn', factor: 4 }));
    const run = toxscope('inspect', folder);
    expect(run.status).toBe(3);
    expect(run.stderr).toMatch(/rope_scaling type "yarn".*\n?.*default, linear, llama3/);
  });

  it('an unsupported model_type, naming the supported ones', () => {
    const folder = tinyDecoderFolder('mistral');
    editConfig(folder, (config) => (config.model_type = 'mixtral'));
    const run = toxscope('inspect', folder);
    expect(run.status).toBe(3);
    expect(run.stderr).toMatch(/gpt2, llama, mistral, qwen2, gemma2, bart/);
  });

  it('a config whose shapes disagree with the weights, naming the tensor', () => {
    const folder = tinyDecoderFolder('gemma2');
    editConfig(folder, (config) => (config.intermediate_size = 40));
    const run = toxscope('inspect', folder);
    expect(run.status).toBe(3);
    expect(run.stderr).toMatch(/model\.layers\.\d+\.mlp\.(gate|up|down)_proj\.weight/);
  });

  it('a missing shard, naming the file', () => {
    const folder = tinyDecoderFolder('llama3');
    rmSync(join(folder, 'model-00002-of-00002.safetensors'));
    const run = toxscope('inspect', folder);
    expect(run.status).toBe(3);
    expect(run.stderr).toMatch(/model-00002-of-00002\.safetensors/);
  });

  it('an 8B model in float32 on this machine: refused before loading, with the estimate and what would fit', () => {
    // Llama-3.1-8B's shapes in one bf16 safetensors file that is sparse on disk (16 GB of holes, no data read).
    const folder = mkdtempSync(join(os.tmpdir(), 'toxscope-8b-'));
    const config = {
      model_type: 'llama',
      hidden_size: 4096,
      intermediate_size: 14336,
      num_hidden_layers: 32,
      num_attention_heads: 32,
      num_key_value_heads: 8,
      max_position_embeddings: 131072,
      rms_norm_eps: 1e-5,
      rope_theta: 500000,
      rope_scaling: {
        rope_type: 'llama3',
        factor: 8,
        low_freq_factor: 1,
        high_freq_factor: 4,
        original_max_position_embeddings: 8192,
      },
      vocab_size: 128256,
      tie_word_embeddings: false,
    };
    writeFileSync(join(folder, 'config.json'), JSON.stringify(config));
    copyTokenizer('llama3', folder);
    const shapes: [string, number[]][] = [
      ['model.embed_tokens.weight', [128256, 4096]],
      ['model.norm.weight', [4096]],
      ['lm_head.weight', [128256, 4096]],
    ];
    for (let layer = 0; layer < 32; layer++) {
      const p = `model.layers.${layer}.`;
      shapes.push([`${p}input_layernorm.weight`, [4096]], [`${p}post_attention_layernorm.weight`, [4096]]);
      shapes.push([`${p}self_attn.q_proj.weight`, [4096, 4096]], [`${p}self_attn.k_proj.weight`, [1024, 4096]]);
      shapes.push([`${p}self_attn.v_proj.weight`, [1024, 4096]], [`${p}self_attn.o_proj.weight`, [4096, 4096]]);
      shapes.push([`${p}mlp.gate_proj.weight`, [14336, 4096]], [`${p}mlp.up_proj.weight`, [14336, 4096]]);
      shapes.push([`${p}mlp.down_proj.weight`, [4096, 14336]]);
    }
    const header: Record<string, unknown> = {};
    let offset = 0;
    for (const [name, shape] of shapes) {
      const bytes = 2 * shape.reduce((a, b) => a * b, 1);
      header[name] = { dtype: 'BF16', shape, data_offsets: [offset, offset + bytes] };
      offset += bytes;
    }
    const json = Buffer.from(JSON.stringify(header).padEnd(Math.ceil(JSON.stringify(header).length / 8) * 8, ' '));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(json.length));
    const path = join(folder, 'model.safetensors');
    const fd = openSync(path, 'w');
    writeSync(fd, Buffer.concat([length, json]));
    writeSync(fd, Buffer.alloc(1), 0, 1, 8 + json.length + offset - 1); // the last byte: the rest stays a hole
    closeSync(fd);
    expect(loadModel(folder).parameters).toBe(8_030_261_248); // Llama-3.1-8B's num_parameters()
    const started = Date.now();
    const run = toxscope('activations', folder, '--text', 'hello', '--out', join(scratch(), 'a.safetensors'));
    expect(Date.now() - started, 'refused without reading or hashing 16 GB').toBeLessThan(15_000);
    expect(run.status).toBe(3);
    expect(run.stderr).toMatch(/needs about [\d.]+ GiB \(weights [\d.]+ GiB/);
    expect(run.stderr).toMatch(/Models up to about [\d.]+ (billion|million) parameters fit/);
    rmSync(folder, { recursive: true });
  });
});
