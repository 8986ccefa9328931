// The GPT-2 graph's reviewable text dump against a committed golden: any change to what the builder emits shows up
// as a diff in review. Regenerate (a reviewed change): UPDATE_GOLDENS=1 npx vitest run test/unit/core/gpt2-graph-dump.test.ts

import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildDecoderGraph } from '../../../src-main/core/models/decoder/graph.ts';
import { dumpGraph } from '../../../src-main/core/onnx/graph-builder.ts';
import { describeFeeds, TensorClass } from '../../../src-main/core/runtime/onnxruntime.ts';
import { tinyGpt2Config } from '../../support/tiny-decoder.ts';

const goldenPath = new URL('../../golden/gpt2-graph-1layer.txt', import.meta.url);
const header = '# format 1 — regenerate: UPDATE_GOLDENS=1 npx vitest run test/unit/core/gpt2-graph-dump.test.ts\n';

describe('GPT-2 graph dump', () => {
  it('is unchanged for a one-layer model with hooks, KV cache and interventions (fused attention)', () => {
    const config = tinyGpt2Config({ nLayers: 1 });
    const graph = buildDecoderGraph(
      config,
      (name, dims) => ({
        name,
        type: 'float32',
        dims,
        external: { location: 'weights.safetensors', offset: 0, length: 4 * dims.reduce((a, b) => a * b, 1) },
      }),
      {
        hooks: ['blocks.0.mlp.hook_post', 'blocks.0.hook_resid_post'],
        hookPositions: 'last',
        logits: 'last',
        kvCache: true,
        interventions: true,
        attention: 'fused',
      },
    );
    const dump = header + dumpGraph(graph) + '\n';
    if (process.env.UPDATE_GOLDENS) writeFileSync(goldenPath, dump);
    expect(dump).toBe(readFileSync(goldenPath, 'utf8'));
  });

  it('refuses options that would give a graph with no outputs', () => {
    expect(() =>
      buildDecoderGraph(
        tinyGpt2Config(),
        () => ({ name: 'x', type: 'float32', dims: [1], data: new Float32Array(1) }),
        {
          hooks: [],
          hookPositions: 'all',
          logits: 'none',
          kvCache: false,
          interventions: false,
          attention: 'fused',
        },
      ),
    ).toThrow(/at least one output/);
  });
});

describe('runtime failure messages', () => {
  it('fold per-layer cache inputs of one shape into one entry', () => {
    const empty = new TensorClass('float32', new Float32Array(0), [2, 1, 16, 0, 64]);
    const ids = new TensorClass('int64', new BigInt64Array(3), [1, 3]);
    expect(describeFeeds({ input_ids: ids, 'past.0': empty, 'past.1': empty, 'past.2': empty })).toBe(
      'input_ids: int64[1, 3]; past.{L}: float32[2, 1, 16, 0, 64] ×3',
    );
  });
});
