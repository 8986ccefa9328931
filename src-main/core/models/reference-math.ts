// The arithmetic every slow reference forward pass shares (BART, the classifiers, the decoders): float64 vectors,
// LayerNorm, a PyTorch Linear, and the exact erf GELU. Plain loops, written for reading, not speed.

export type Vector = Float64Array;

export function layerNorm(x: Vector, weight: Float32Array, bias: Float32Array, eps: number): Vector {
  const mean = x.reduce((sum, value) => sum + value, 0) / x.length;
  const variance = x.reduce((sum, value) => sum + (value - mean) ** 2, 0) / x.length;
  return x.map((value, index) => ((value - mean) / Math.sqrt(variance + eps)) * weight[index]! + bias[index]!);
}

/** y = x·Wᵀ + b, W stored [out, in] (PyTorch Linear). */
export function linear(x: Vector, weight: Float32Array, bias: Float32Array): Vector {
  const out = bias.length;
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let sum = bias[o]!;
    for (let i = 0; i < x.length; i++) sum += x[i]! * weight[o * x.length + i]!;
    y[o] = sum;
  }
  return y;
}

/**
 * erf by its Taylor series (|x| < 2.5) and continued fraction (beyond), float64-accurate (Abramowitz–Stegun 7.1.26
 * is not precise enough for 1e-5 parity).
 */
export function erf(x: number): number {
  const t = Math.abs(x);
  if (t < 2.5) {
    let sum = t;
    let term = t;
    for (let n = 1; n < 60; n++) {
      term *= (-t * t) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  let fraction = 0;
  for (let n = 60; n >= 1; n--) fraction = n / 2 / (t + fraction);
  return Math.sign(x) * (1 - Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + fraction));
}

/** The exact GELU (hidden_act / activation_function "gelu"). */
export const gelu = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));
