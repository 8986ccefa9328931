// BART as two ONNX graphs (spec marco.md §7.2): an encoder that also computes every decoder layer's cross-attention
// keys and values once per input, and a decoder that reads them, attends over a self-attention KV cache the session
// keeps (StaticKvCache), and returns logits at every position, the last, or one chosen position per row (the masker's
// teacher-forced read-out).
// Post-LN sub-layers, exact GELU, learned positions with offset 2, logits = h·Eᵀ + final_logits_bias.

import type { GraphSpec } from '../../onnx/graph-builder.ts';
import { GraphWriter } from '../../onnx/graph-writer.ts';
import type { WeightInitializer } from '../decoder/graph.ts';
import { bartPositionOffset, type BartConfig } from './config.ts';

const float32Min = -3.4028234663852886e38;

export function bartHookNames(config: BartConfig): string[] {
  const names: string[] = [];
  for (let layer = 0; layer < config.encoderLayers; layer++) names.push(`encoder.blocks.${layer}.mlp.hook_post`);
  for (let layer = 0; layer < config.decoderLayers; layer++) names.push(`decoder.blocks.${layer}.mlp.hook_post`);
  return names;
}

interface Builder {
  g: GraphWriter;
  config: BartConfig;
  w: (name: string, dims: number[]) => string;
}

function builder(config: BartConfig, weight: WeightInitializer): Builder {
  const g = new GraphWriter();
  const names = new Set<string>();
  const w = (name: string, dims: number[]) => {
    if (!names.has(name)) g.initializer(weight(name, dims));
    names.add(name);
    return name;
  };
  return { g, config, w };
}

/** x·Wᵀ + b for a PyTorch-layout weight [out, in] (onnxruntime folds the transpose once at load). */
function linear({ g, w }: Builder, x: string, prefix: string, out: number, inputs: number): string {
  return g.op('Add', [
    g.op('MatMul', [x, g.op('Transpose', [w(`${prefix}`, [out, inputs])], { perm: [1, 0] })]),
    w(prefix.replace(/W_(\w+)$/, 'b_$1'), [out]),
  ]);
}

function layerNorm({ g, w, config }: Builder, x: string, prefix: string): string {
  return g.op('LayerNormalization', [x, w(`${prefix}.w`, [config.dModel]), w(`${prefix}.b`, [config.dModel])], {
    axis: -1,
    epsilon: config.layerNormEps,
  });
}

/** [batch, len, d_model] → [batch, heads, len, d_head]. */
function toHeads({ g, config }: Builder, x: string): string {
  return g.op('Transpose', [g.op('Reshape', [x, g.ints([0, 0, config.encoderHeads, config.dHead])])], {
    perm: [0, 2, 1, 3],
  });
}

/** q·kᵀ/√d_head: q [b, h, len, dh], kᵀ [b, h, dh, keys] → [b, h, len, keys]. */
function scaledScores({ g, config }: Builder, q: string, keysTransposed: string): string {
  return g.op('Mul', [g.op('MatMul', [q, keysTransposed]), g.float(1 / Math.sqrt(config.dHead))]);
}

/** Heads [b, h, len, dh] merged and projected by W_O. */
function mergeHeads(b: Builder, heads: string, prefix: string): string {
  const { g, config } = b;
  const merged = g.op('Reshape', [g.op('Transpose', [heads], { perm: [0, 2, 1, 3] }), g.ints([0, 0, config.dModel])]);
  return linear(b, merged, `${prefix}.W_O`, config.dModel, config.dModel);
}

/** softmax(q·kᵀ/√d_head where visible)·v, heads merged and projected: q [b, h, len, dh], k/v [b, h, keys, dh]. */
function attend(b: Builder, q: string, k: string, v: string, visible: string, prefix: string): string {
  const { g } = b;
  const scores = scaledScores(b, q, g.op('Transpose', [k], { perm: [0, 1, 3, 2] }));
  const probabilities = g.op('Softmax', [g.op('Where', [visible, scores, g.float(float32Min)])], { axis: -1 });
  return mergeHeads(b, g.op('MatMul', [probabilities, v]), prefix);
}

/** Embeddings of ids at positions [offset, offset + len) (+2), then layernorm_embedding. */
function embed(b: Builder, side: 'encoder' | 'decoder', ids: string, start: string): string {
  const { g, config, w } = b;
  const length = g.op('Gather', [g.op('Shape', [ids]), g.ints([1], [])], { axis: 0 });
  const positions = g.op('Add', [
    g.op('Range', [start, g.op('Add', [start, length]), g.ints([1], [])]),
    g.ints([bartPositionOffset], []),
  ]);
  let tokens = g.op('Gather', [w('shared.W_E', [config.dVocab, config.dModel]), ids]);
  if (config.embedScale !== 1) tokens = g.op('Mul', [tokens, g.float(config.embedScale)]);
  const summed = g.op('Add', [
    tokens,
    g.op('Gather', [w(`${side}.pos_embed`, [config.nCtx + bartPositionOffset, config.dModel]), positions]),
  ]);
  return layerNorm(b, summed, `${side}.ln_embed`);
}

function mlp(b: Builder, x: string, block: string, hook: (name: string, value: string) => void): string {
  const { g, config } = b;
  const post = g.op('Gelu', [linear(b, x, `${block}.mlp.W_in`, config.dMlp, config.dModel)], { approximate: 'none' });
  hook(`${block}.mlp.hook_post`, post);
  return layerNorm(
    b,
    g.op('Add', [x, linear(b, post, `${block}.mlp.W_out`, config.dModel, config.dMlp)]),
    `${block}.ln_mlp`,
  );
}

export interface BartEncoderOptions {
  hooks: string[];
}

/** Encoder: input_ids, attention_mask [batch, src] → encoder_hidden [batch, src, d], cross.{L}.key/value. */
export function buildBartEncoderGraph(
  config: BartConfig,
  weight: WeightInitializer,
  options: BartEncoderOptions,
): GraphSpec {
  const b = builder(config, weight);
  const { g } = b;
  const wanted = new Set(options.hooks);
  const hook = (name: string, value: string) => {
    if (wanted.has(name)) g.output(value, name, 'float32', ['batch', 'src', config.dMlp]);
  };
  const ids = g.input('input_ids', 'int64', ['batch', 'src']);
  const mask = g.input('attention_mask', 'int64', ['batch', 'src']);
  const visible = g.op('Unsqueeze', [g.op('Cast', [mask], { to: 9 }), g.ints([1, 2])]); // [batch, 1, 1, src]
  let x = embed(b, 'encoder', ids, g.ints([0], []));
  for (let layer = 0; layer < config.encoderLayers; layer++) {
    const block = `encoder.blocks.${layer}`;
    const head = (name: string) => toHeads(b, linear(b, x, `${block}.attn.W_${name}`, config.dModel, config.dModel));
    x = layerNorm(
      b,
      g.op('Add', [x, attend(b, head('Q'), head('K'), head('V'), visible, `${block}.attn`)]),
      `${block}.ln_attn`,
    );
    x = mlp(b, x, block, hook);
  }
  g.output(x, 'encoder_hidden', 'float32', ['batch', 'src', config.dModel]);
  for (let layer = 0; layer < config.decoderLayers; layer++) {
    for (const [name, kind] of [
      ['key', 'K'],
      ['value', 'V'],
    ] as const) {
      g.output(
        toHeads(b, linear(b, x, `decoder.blocks.${layer}.cross.W_${kind}`, config.dModel, config.dModel)),
        `cross.${layer}.${name}`,
        'float32',
        ['batch', config.decoderHeads, 'src', config.dHead],
      );
    }
  }
  return g.graph('bart_encoder');
}

export interface BartDecoderOptions {
  hooks: string[];
  hookPositions: 'all' | 'last';
  /** 'gather': one position per row, given by the input logits_positions [batch]. */
  logits: 'all' | 'last' | 'gather';
  /** Return each step's new keys and values (new.{L}.*) for the session's cache: decoding step by step needs them. */
  kvCache: boolean;
}

/**
 * Decoder: decoder_input_ids [batch, tgt] (every row the same length; positions continue after the cache),
 * encoder_attention_mask [batch, src], cross.{L}.key/value [batch, heads, src, d_head], and the self-attention cache
 * the session keeps: cache.{L}.key/value [slots, batch, heads, d_head] with cache_visible [slots] (1 = a filled slot;
 * a step with no past is fed one hidden zero slot, see StaticKvCache.feeds). With kvCache, the step's own keys and
 * values leave the graph as new.{L}.key/value [tgt, batch, heads, d_head], for the session to write into its cache.
 */
export function buildBartDecoderGraph(
  config: BartConfig,
  weight: WeightInitializer,
  options: BartDecoderOptions,
): GraphSpec {
  const b = builder(config, weight);
  const { g, w } = b;
  const { dModel, decoderHeads, dHead, dVocab } = config;
  const wanted = new Set(options.hooks);
  const hook = (name: string, value: string) => {
    if (!wanted.has(name)) return;
    if (options.hookPositions === 'last')
      g.output(g.op('Gather', [value, g.ints([-1], [])], { axis: 1 }), name, 'float32', ['batch', config.dMlp]);
    else g.output(value, name, 'float32', ['batch', 'tgt', config.dMlp]);
  };
  const ids = g.input('decoder_input_ids', 'int64', ['batch', 'tgt']);
  const encoderMask = g.input('encoder_attention_mask', 'int64', ['batch', 'src']);
  for (let layer = 0; layer < config.decoderLayers; layer++) {
    for (const name of ['key', 'value'])
      g.input(`cross.${layer}.${name}`, 'float32', ['batch', decoderHeads, 'src', dHead]);
    for (const name of ['key', 'value'])
      g.input(`cache.${layer}.${name}`, 'float32', ['slots', 'batch', decoderHeads, dHead]);
  }
  const cacheVisible = g.input('cache_visible', 'int64', ['slots']);
  const gatherPositions = options.logits === 'gather' ? g.input('logits_positions', 'int64', ['batch']) : null;

  const past = g.op('ReduceSum', [cacheVisible], { keepdims: 0 }); // scalar: the filled slots
  const vector = (value: string) => g.op('Unsqueeze', [value, g.ints([0])]); // scalar → [1]
  const slotCount = g.op('Shape', [cacheVisible]); // [1]
  const tgt = g.op('Gather', [g.op('Shape', [ids]), g.ints([1], [])], { axis: 0 });
  // Query i sees every filled slot and the new keys j ≤ i.
  const slotVisible = g.op('Cast', [cacheVisible], { to: 9 }); // [slots], broadcast over [batch, heads, tgt, slots]
  const square = g.op('Concat', [vector(tgt), vector(tgt)], { axis: 0 });
  const causal = g.op('Cast', [g.op('Trilu', [g.op('Expand', [g.float(1), square]), g.ints([0], [])], { upper: 0 })], {
    to: 9,
  }); // [tgt, tgt]
  const splitSizes = g.op('Concat', [slotCount, vector(tgt)], { axis: 0 });
  const crossVisible = g.op('Unsqueeze', [g.op('Cast', [encoderMask], { to: 9 }), g.ints([1, 2])]); // [batch, 1, 1, src]
  const maskedScore = g.float(float32Min);

  let y = embed(b, 'decoder', ids, past);
  for (let layer = 0; layer < config.decoderLayers; layer++) {
    const block = `decoder.blocks.${layer}`;
    const head = (name: string) => toHeads(b, linear(b, y, `${block}.attn.W_${name}`, dModel, dModel));
    const [queries, keys, values] = [head('Q'), head('K'), head('V')]; // [batch, heads, tgt, d_head]
    if (options.kvCache) {
      const slotMajor = (heads: string) => g.op('Transpose', [heads], { perm: [2, 0, 1, 3] }); // [tgt, batch, …]
      g.output(slotMajor(keys), `new.${layer}.key`, 'float32', ['tgt', 'batch', decoderHeads, dHead]);
      g.output(slotMajor(values), `new.${layer}.value`, 'float32', ['tgt', 'batch', decoderHeads, dHead]);
    }
    // The cache read slot-major through Transposes onnxruntime folds into the MatMuls (no copy); the scores against
    // the slots and against the step's own keys joined for one softmax, split again to weigh the two sets of values.
    // Cached keys as [batch, heads, d_head, slots], cached values as [batch, heads, slots, d_head].
    const cachedKeys = g.op('Transpose', [`cache.${layer}.key`], { perm: [1, 2, 3, 0] });
    const cachedValues = g.op('Transpose', [`cache.${layer}.value`], { perm: [1, 2, 0, 3] });
    const scores = g.op(
      'Concat',
      [
        g.op('Where', [slotVisible, scaledScores(b, queries, cachedKeys), maskedScore]),
        g.op('Where', [
          causal,
          scaledScores(b, queries, g.op('Transpose', [keys], { perm: [0, 1, 3, 2] })),
          maskedScore,
        ]),
      ],
      { axis: -1 },
    );
    const [slotWeights, newWeights] = g.opMulti('Split', [g.op('Softmax', [scores], { axis: -1 }), splitSizes], 2, {
      axis: -1,
    });
    const mixed = g.op('Add', [g.op('MatMul', [slotWeights!, cachedValues]), g.op('MatMul', [newWeights!, values])]);
    y = layerNorm(b, g.op('Add', [y, mergeHeads(b, mixed, `${block}.attn`)]), `${block}.ln_attn`);
    const crossQuery = toHeads(b, linear(b, y, `${block}.cross.W_Q`, dModel, dModel));
    y = layerNorm(
      b,
      g.op('Add', [
        y,
        attend(b, crossQuery, `cross.${layer}.key`, `cross.${layer}.value`, crossVisible, `${block}.cross`),
      ]),
      `${block}.ln_cross`,
    );
    y = mlp(b, y, block, hook);
  }

  // logits = y·Eᵀ + final_logits_bias, E read in place (an alias of the shared embedding's bytes, see
  // GraphWriter.alias). At every position: Gemm's transB. At one position per row: (E · rowsᵀ)ᵀ, since onnxruntime
  // repacks only a GEMM's right-hand weights and a left-hand E needs no repacked copy (see the decoder's graph).
  const embedding = g.alias('lm_head.W_U', w('shared.W_E', [dVocab, dModel]));
  const bias = w('final_logits_bias', [1, dVocab]);
  const unembed = (rows: string) =>
    g.op('Gemm', [rows, embedding, g.op('Reshape', [bias, g.ints([dVocab])])], { transB: 1 });
  const unembedOnePerRow = (rows: string) => {
    const columns = g.op('MatMul', [embedding, g.op('Transpose', [rows], { perm: [1, 0] })]); // [d_vocab, batch]
    return g.op('Add', [g.op('Transpose', [columns], { perm: [1, 0] }), bias]); // [batch, d_vocab]
  };
  if (options.logits === 'all') {
    const shape = g.op('Concat', [g.op('Slice', [g.op('Shape', [y]), g.ints([0]), g.ints([2])]), g.ints([dVocab])], {
      axis: 0,
    });
    g.output(g.op('Reshape', [unembed(g.op('Reshape', [y, g.ints([-1, dModel])])), shape]), 'logits', 'float32', [
      'batch',
      'tgt',
      dVocab,
    ]);
  } else if (options.logits === 'last') {
    g.output(unembedOnePerRow(g.op('Gather', [y, g.ints([-1], [])], { axis: 1 })), 'logits', 'float32', [
      'batch',
      dVocab,
    ]);
  } else {
    // Row b's position p_b: GatherND with indices [[0, p_0], [1, p_1], …].
    const batch = g.op('Gather', [g.op('Shape', [ids]), g.ints([0], [])], { axis: 0 });
    const rows = g.op('Range', [g.ints([0], []), batch, g.ints([1], [])]);
    const indices = g.op(
      'Concat',
      [g.op('Unsqueeze', [rows, g.ints([1])]), g.op('Unsqueeze', [gatherPositions!, g.ints([1])])],
      { axis: 1 },
    );
    g.output(unembedOnePerRow(g.op('GatherND', [y, indices])), 'logits', 'float32', ['batch', dVocab]);
  }
  return g.graph('bart_decoder');
}
