// Reading config.json for the rotary families: a key left out takes transformers' default for that family (what the
// PyTorch reference's resolve() uses), and a key set to null turns the feature off.

import { describe, expect, it } from 'vitest';
import type { Architecture } from '../../../src-main/core/models/architectures.ts';
import { parseDecoderConfig } from '../../../src-main/core/models/decoder/config.ts';

/** A small config of the family with only the keys every real config.json has, plus `extra`. */
function parse(architecture: Architecture, extra: Record<string, unknown> = {}) {
  const json = {
    model_type: architecture,
    hidden_size: 64,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    num_hidden_layers: 4,
    intermediate_size: 96,
    vocab_size: 320,
    ...extra,
  };
  return parseDecoderConfig({ path: '/models/x/config.json', json, architecture });
}

describe('decoder config defaults', () => {
  it("gives Gemma-2 Gemma2Config's query_pre_attn_scalar, soft-caps and window where config.json leaves them out", () => {
    const config = parse('gemma2');
    expect(config.attention.scale).toBeCloseTo(256 ** -0.5, 12);
    expect(config.attention.logitSoftcap).toBe(50);
    expect(config.finalLogitSoftcap).toBe(30);
    expect(config.attention.slidingWindow).toEqual([4096, null, 4096, null]);
    expect(config.dHead).toBe(256);
  });

  it('turns a Gemma-2 soft-cap or window off where config.json sets it to null', () => {
    const config = parse('gemma2', {
      attn_logit_softcapping: null,
      final_logit_softcapping: null,
      sliding_window: null,
    });
    expect(config.attention.logitSoftcap).toBeNull();
    expect(config.finalLogitSoftcap).toBeNull();
    expect(config.attention.slidingWindow).toEqual([null, null, null, null]);
  });

  it("reads Gemma-2's activation from hidden_activation only, as transformers does", () => {
    expect(parse('gemma2', { hidden_act: 'gelu' }).mlp.activation).toBe('gelu_tanh');
  });

  it('gives Mistral a window of 4096 on every layer unless config.json says null', () => {
    expect(parse('mistral').attention.slidingWindow).toEqual([4096, 4096, 4096, 4096]);
    expect(parse('mistral', { sliding_window: null }).attention.slidingWindow).toEqual([null, null, null, null]);
    expect(parse('mistral').nCtx).toBe(131072);
  });

  it('slides Qwen2 layers only with use_sliding_window, from max_window_layers (default 28) on', () => {
    expect(parse('qwen2', { sliding_window: 8 }).attention.slidingWindow).toEqual([null, null, null, null]);
    expect(parse('qwen2', { use_sliding_window: true }).attention.slidingWindow).toEqual([null, null, null, null]);
    expect(
      parse('qwen2', { use_sliding_window: true, max_window_layers: 2, sliding_window: 8 }).attention.slidingWindow,
    ).toEqual([null, null, 8, 8]);
    expect(parse('qwen2').nCtx).toBe(32768);
  });

  it('never slides a Llama window', () => {
    expect(parse('llama', { sliding_window: 8 }).attention.slidingWindow).toEqual([null, null, null, null]);
    expect(parse('llama').nCtx).toBe(2048);
  });
});
