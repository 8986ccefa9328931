// llm.c's check_tensor: compares two tensors and, on failure, says where and by how much (first values, max diff).

export function maxAbsDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let max = 0;
  for (let index = 0; index < actual.length; index++) {
    const difference = Math.abs(actual[index]! - expected[index]!);
    if (!(difference <= max)) max = difference; // NaN propagates as a failure
  }
  return max;
}

/** Returns null when within tolerance, else a message naming the tensor, its first values and the max difference. */
export function describeMismatch(
  name: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: number,
): string | null {
  const max = maxAbsDifference(actual, expected);
  if (max <= tolerance) return null;
  const head = (values: ArrayLike<number>) =>
    Array.from({ length: Math.min(5, values.length) }, (_, index) => values[index]!.toFixed(6)).join(', ');
  return `${name}: max |diff| ${max} > ${tolerance} (lengths ${actual.length} vs ${expected.length}); actual [${head(actual)}] expected [${head(expected)}]`;
}
