// Small runtime guards for `unknown` values that arrive over IPC, WebSocket or from user files.

export type Guard<T> = (value: unknown) => value is T;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

export function isPositiveInteger(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) > 0;
}

export function isOneOf<T extends string>(options: readonly T[]): Guard<T> {
  return (value: unknown): value is T => typeof value === 'string' && (options as readonly string[]).includes(value);
}

export function isArrayOf<T>(guard: Guard<T>): Guard<T[]> {
  return (value: unknown): value is T[] => Array.isArray(value) && value.every((item) => guard(item));
}

/** True when `value` is a record whose keys are all in `allowed` (rejects unexpected fields in payloads). */
export function hasOnlyKeys(value: Record<string, unknown>, allowed: readonly string[]): boolean {
  return Object.keys(value).every((key) => allowed.includes(key));
}
