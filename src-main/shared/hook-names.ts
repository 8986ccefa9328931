// Hook-name grammar (TransformerLens names) and glob matching for `--hooks` lists such as
// `blocks.*.hook_resid_post`. Shared by the engine and the renderer.

/** Per-block hooks of a decoder-only transformer, in forward order. */
export const blockHookSuffixes = [
  'hook_resid_pre',
  'hook_attn_out',
  'hook_resid_mid',
  'mlp.hook_pre',
  'mlp.hook_post',
  'hook_mlp_out',
  'hook_resid_post',
] as const;

/**
 * Every hook of an n-layer decoder, plus the final norm and logits. Gated MLPs (Llama, Mistral, Qwen2, Gemma-2) add
 * `mlp.hook_pre_linear` (the up projection beside the gate's `mlp.hook_pre`) and `hook_embed` (the embedding that
 * enters block 0; GPT-2's residual also adds learned positions, so it has no single embedding hook here).
 */
export function decoderHookNames(nLayers: number, gatedMlp = false): string[] {
  const names: string[] = gatedMlp ? ['hook_embed'] : [];
  for (let layer = 0; layer < nLayers; layer++)
    for (const suffix of blockHookSuffixes) {
      names.push(`blocks.${layer}.${suffix}`);
      if (gatedMlp && suffix === 'mlp.hook_pre') names.push(`blocks.${layer}.mlp.hook_pre_linear`);
    }
  names.push('ln_final.hook_normalized', 'logits');
  return names;
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^.]*');
  return new RegExp(`^${escaped}$`);
}

/**
 * Selects hook names by exact names or globs (`*` matches within one dotted segment). Returns the matches in the
 * model's order and the patterns that matched nothing (so callers can say which names were wrong).
 */
export function matchHookNames(
  available: readonly string[],
  patterns: readonly string[],
): { names: string[]; unmatched: string[] } {
  const expressions = patterns.map((pattern) => [pattern, globToRegExp(pattern)] as const);
  const names = available.filter((name) => expressions.some(([, expression]) => expression.test(name)));
  const unmatched = expressions
    .filter(([, expression]) => !available.some((name) => expression.test(name)))
    .map(([pattern]) => pattern);
  return { names, unmatched };
}
