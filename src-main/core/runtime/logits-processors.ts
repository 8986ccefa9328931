// Logits processors and token pickers for generation, in Hugging Face's order: repetition penalty, temperature,
// top-k, top-p; then greedy argmax or a seeded multinomial draw. Pure functions over one row of logits.

export interface SamplingSettings {
  temperature: number;
  /** Keep the k most likely tokens; 0 = off. */
  topK: number;
  /** Keep the smallest set whose probability reaches p; 1 = off. */
  topP: number;
  seed: number;
}

/** Argmax; ties go to the lowest id, as torch.argmax does. */
export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let index = 1; index < logits.length; index++) if (logits[index]! > logits[best]!) best = index;
  return best;
}

/** CTRL-style repetition penalty (HF RepetitionPenaltyLogitsProcessor): divide positive, multiply negative logits. */
export function applyRepetitionPenalty(logits: Float32Array, previousTokens: Iterable<number>, penalty: number): void {
  if (penalty === 1) return;
  for (const token of new Set(previousTokens)) {
    const value = logits[token]!;
    logits[token] = value > 0 ? value / penalty : value * penalty;
  }
}

/** Returns the sampled token id from one row of logits (modified in place). */
export function sampleToken(logits: Float32Array, settings: SamplingSettings, random: () => number): number {
  const scaled = Float64Array.from(logits, (value) => value / settings.temperature);
  let order = Array.from(scaled.keys()).sort((a, b) => scaled[b]! - scaled[a]! || a - b);
  if (settings.topK > 0) order = order.slice(0, settings.topK);
  const max = scaled[order[0]!]!;
  let probabilities = order.map((token) => Math.exp(scaled[token]! - max));
  let sum = probabilities.reduce((a, b) => a + b, 0);
  probabilities = probabilities.map((p) => p / sum);
  if (settings.topP < 1) {
    let cumulative = 0;
    let keep = 0;
    while (keep < order.length && cumulative < settings.topP) cumulative += probabilities[keep++]!;
    order = order.slice(0, Math.max(1, keep));
    probabilities = probabilities.slice(0, order.length);
    sum = probabilities.reduce((a, b) => a + b, 0);
    probabilities = probabilities.map((p) => p / sum);
  }
  let draw = random();
  for (let index = 0; index < order.length; index++) {
    draw -= probabilities[index]!;
    if (draw < 0) return order[index]!;
  }
  return order[order.length - 1]!;
}

/** mulberry32, the seeded generator behind sampling: same seed, same tokens, on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
