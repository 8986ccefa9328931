// Seeded random numbers for fixtures: the same seed gives the same tiny model everywhere.

/** mulberry32: a small, fast, well-distributed 32-bit generator returning floats in [0, 1). */
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

/** Normally distributed float32 values (Box–Muller) with the given standard deviation. */
export function randomNormal(random: () => number, count: number, std: number): Float32Array {
  const values = new Float32Array(count);
  for (let index = 0; index < count; index++) {
    const u = Math.max(random(), 1e-12);
    values[index] = std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  }
  return values;
}
