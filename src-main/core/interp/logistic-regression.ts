// L2-regularised logistic regression fitted with L-BFGS (what scikit-learn's LogisticRegression(C=1) fits by
// default): minimise C·Σ log(1 + exp(−yᵢ(w·xᵢ + b))) + ½‖w‖², the bias unregularised. Pure; float64 throughout.

export interface LogisticModel {
  weights: Float64Array; // [d]
  bias: number;
  iterations: number;
  /** ‖∇‖ at the solution (convergence diagnostic). */
  gradientNorm: number;
}

/** Loss and gradient over parameters θ = [w (d), b]; labels are 0/1. */
function lossAndGradient(
  features: Float64Array[],
  labels: Uint8Array,
  theta: Float64Array,
  c: number,
): { loss: number; gradient: Float64Array } {
  const d = theta.length - 1;
  const gradient = new Float64Array(d + 1);
  let loss = 0;
  for (let index = 0; index < features.length; index++) {
    const x = features[index]!;
    let z = theta[d]!;
    for (let j = 0; j < d; j++) z += theta[j]! * x[j]!;
    const sign = labels[index] === 1 ? 1 : -1;
    const margin = sign * z;
    // log(1 + e^(−m)), stable for both signs.
    loss += c * (margin > 0 ? Math.log1p(Math.exp(-margin)) : -margin + Math.log1p(Math.exp(margin)));
    const weight = (-c * sign) / (1 + Math.exp(margin)); // ∂/∂z
    for (let j = 0; j < d; j++) gradient[j]! += weight * x[j]!;
    gradient[d]! += weight;
  }
  for (let j = 0; j < d; j++) {
    loss += 0.5 * theta[j]! ** 2;
    gradient[j]! += theta[j]!;
  }
  return { loss, gradient };
}

const dot = (a: Float64Array, b: Float64Array) => a.reduce((sum, value, index) => sum + value * b[index]!, 0);

export function fitLogisticRegression(
  features: Float64Array[],
  labels: Uint8Array,
  options: { c?: number; maxIterations?: number; tolerance?: number } = {},
): LogisticModel {
  const c = options.c ?? 1;
  const maxIterations = options.maxIterations ?? 500;
  const tolerance = options.tolerance ?? 1e-6;
  const dimension = (features[0]?.length ?? 0) + 1;
  let theta = new Float64Array(dimension);
  let { loss, gradient } = lossAndGradient(features, labels, theta, c);
  const history: { s: Float64Array; y: Float64Array; rho: number }[] = [];
  let iteration = 0;
  for (; iteration < maxIterations; iteration++) {
    if (Math.sqrt(dot(gradient, gradient)) < tolerance * Math.max(1, features.length)) break;
    // Two-loop recursion: direction = −H·∇.
    const q = Float64Array.from(gradient);
    const alphas: number[] = [];
    for (let k = history.length - 1; k >= 0; k--) {
      const { s, y, rho } = history[k]!;
      const alpha = rho * dot(s, q);
      alphas[k] = alpha;
      for (let j = 0; j < dimension; j++) q[j]! -= alpha * y[j]!;
    }
    const last = history[history.length - 1];
    const scale = last
      ? dot(last.s, last.y) / dot(last.y, last.y)
      : 1 / Math.max(1, Math.sqrt(dot(gradient, gradient)));
    for (let j = 0; j < dimension; j++) q[j]! *= scale;
    for (let k = 0; k < history.length; k++) {
      const { s, y, rho } = history[k]!;
      const beta = rho * dot(y, q);
      for (let j = 0; j < dimension; j++) q[j]! += s[j]! * (alphas[k]! - beta);
    }
    const direction = q.map((value) => -value);
    // Backtracking line search with the Armijo condition.
    const slope = dot(gradient, direction);
    let step = 1;
    let next = theta;
    let evaluated = { loss, gradient };
    for (let tries = 0; tries < 40; tries++) {
      next = theta.map((value, j) => value + step * direction[j]!);
      evaluated = lossAndGradient(features, labels, next, c);
      if (evaluated.loss <= loss + 1e-4 * step * slope) break;
      step /= 2;
    }
    const s = next.map((value, j) => value - theta[j]!);
    const y = evaluated.gradient.map((value, j) => value - gradient[j]!);
    const sy = dot(s, y);
    if (sy > 1e-12) {
      history.push({ s, y, rho: 1 / sy });
      if (history.length > 10) history.shift();
    }
    const improvement = loss - evaluated.loss;
    theta = next;
    loss = evaluated.loss;
    gradient = evaluated.gradient;
    if (improvement >= 0 && improvement < 1e-12 * Math.max(1, Math.abs(loss))) break;
  }
  return {
    weights: theta.slice(0, dimension - 1),
    bias: theta[dimension - 1]!,
    iterations: iteration,
    gradientNorm: Math.sqrt(dot(gradient, gradient)),
  };
}

export function predictLogit(model: LogisticModel, x: Float64Array): number {
  return dot(model.weights, x) + model.bias;
}
