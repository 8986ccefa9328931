// Seeded random numbers for fixtures: the same seed gives the same tiny model everywhere (core's mulberry32).

import { seededRandom } from '../../src-main/core/runtime/logits-processors.ts';

export { seededRandom };

/** Normally distributed float32 values (Box–Muller) with the given standard deviation. */
export function randomNormal(random: () => number, count: number, std: number): Float32Array {
  const values = new Float32Array(count);
  for (let index = 0; index < count; index++) {
    const u = Math.max(random(), 1e-12);
    values[index] = std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  }
  return values;
}
