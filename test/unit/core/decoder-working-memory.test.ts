// The decoder sessions' working-memory estimate: what each graph option keeps per position or per row, and a
// static-cache prefill counted at the group width DecoderSession.step runs it in, not at the whole batch.

import { describe, expect, it } from 'vitest';
import { prefillGroupRows } from '../../../src-main/core/models/decoder/decoder-session.ts';
import { decoderWorkingBytes, type DecoderSessionOptions } from '../../../src-main/core/models/decoder/open-session.ts';
import { tinyGpt2Config } from '../../support/tiny-decoder.ts';

// gpt2-medium's shapes; only the sizes matter here.
const config = { ...tinyGpt2Config(), nLayers: 24, dModel: 1024, dMlp: 4096, nHeads: 16, nKvHeads: 16, dHead: 64 };
const cpu = { requested: 'cpu' as const, used: 'cpu' as const, note: '' };
const hooks = Array.from({ length: 24 }, (_, layer) => `blocks.${layer}.mlp.hook_post`);
const compare: DecoderSessionOptions = {
  hooks,
  hookPositions: 'last-batch-sum',
  logits: 'next-token',
  kvCache: true,
  interventions: false,
};
const run = (batch: number) => ({ device: cpu, batch, length: 53 });

describe('decoder working memory', () => {
  it("counts a compare graph's prefill activations for one group of rows, and its cache for every row", () => {
    const perRowOfCache = 4 * 2 * 24 * 16 * 64 * 53;
    const extraRow = decoderWorkingBytes(config, compare, run(33)) - decoderWorkingBytes(config, compare, run(32));
    // Past the group width a row adds its cache, one row of hooks and of logits, and no activations.
    expect(extraRow).toBe(perRowOfCache + 4 * (24 * 4096 + config.dVocab));
    const belowGroup = decoderWorkingBytes(config, compare, run(prefillGroupRows));
    const oneRowLess = decoderWorkingBytes(config, compare, run(prefillGroupRows - 1));
    expect(belowGroup - oneRowLess).toBeGreaterThan(extraRow + 53 * 4 * (8 * 1024 + 3 * 4096) - 1);
  });

  it('counts every position of the hooks and logits a forward returns, and every row of an ungrouped forward', () => {
    const forward: DecoderSessionOptions = {
      hooks,
      hookPositions: 'all',
      logits: 'all',
      kvCache: false,
      interventions: false,
    };
    const bytes = decoderWorkingBytes(config, forward, { device: cpu, batch: 8, length: 128 });
    const perPosition = 4 * (8 * 1024 + 3 * 4096 + 16 * 128 + config.dVocab + 24 * 4096);
    expect(bytes).toBe(8 * 128 * perPosition);
    // The same graph with a static cache still runs its prefill whole: its outputs have a position axis.
    const cached = decoderWorkingBytes(config, { ...forward, kvCache: true }, { device: cpu, batch: 16, length: 128 });
    expect(cached).toBe(16 * 128 * perPosition + 16 * 4 * 2 * 24 * 16 * 64 * 128);
  });
});
