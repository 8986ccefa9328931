// Errors as values: every failure that crosses a process boundary is an AppError with a closed code, a message
// that says what failed with which input, and a hint that says what to do next.

/** The closed set of error codes; front doors map them to exit codes and UI states. */
export type ErrorCode =
  | 'INPUT_INVALID'
  | 'UNKNOWN_CHANNEL'
  | 'UNKNOWN_JOB'
  | 'JOB_NOT_FOUND'
  | 'MODEL_NOT_FOUND'
  | 'WEIGHTS_INVALID'
  | 'DEVICE_UNAVAILABLE'
  | 'OUT_OF_MEMORY'
  | 'RUNTIME_FAILED'
  | 'ENGINE_CRASHED'
  | 'CANCELLED'
  | 'INTERNAL';

export const errorCodes: readonly ErrorCode[] = [
  'INPUT_INVALID',
  'UNKNOWN_CHANNEL',
  'UNKNOWN_JOB',
  'JOB_NOT_FOUND',
  'MODEL_NOT_FOUND',
  'WEIGHTS_INVALID',
  'DEVICE_UNAVAILABLE',
  'OUT_OF_MEMORY',
  'RUNTIME_FAILED',
  'ENGINE_CRASHED',
  'CANCELLED',
  'INTERNAL',
];

export interface AppError {
  code: ErrorCode;
  message: string;
  /** What to do next, in the command line's words (`--prompts FILE`). */
  hint: string;
  /** The request field the error is about (`maxNewTokens`, `prompts`), so a form can name and mark its own input. */
  field?: string;
  /** The hint in the app's words, where `hint` names command-line options; the app shows it instead. */
  appHint?: string;
}

/** How the app words an error that names command-line options: the field it is about, and its own hint. */
export interface AppWording {
  field?: string;
  appHint?: string;
}

/** Result of every request across a boundary: a value or an AppError, never a thrown exception. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: AppError };

export function appError(code: ErrorCode, message: string, hint: string, wording: AppWording = {}): AppError {
  return {
    code,
    message,
    hint,
    ...(wording.field !== undefined ? { field: wording.field } : {}),
    ...(wording.appHint !== undefined ? { appHint: wording.appHint } : {}),
  };
}

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(error: AppError): Result<T> {
  return { ok: false, error };
}

export function isAppError(value: unknown): value is AppError {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.code === 'string' &&
    (errorCodes as readonly string[]).includes(candidate.code) &&
    typeof candidate.message === 'string' &&
    typeof candidate.hint === 'string'
  );
}

/** An Error subclass that carries an AppError, so core code can throw and the job runner can turn it back into a value. */
export class AppErrorException extends Error {
  readonly appError: AppError;
  constructor(error: AppError) {
    super(error.message);
    this.name = 'AppErrorException';
    this.appError = error;
  }
}

/** Throws an AppError from core code; the job runner reports it as a value. */
export function raise(code: ErrorCode, message: string, hint: string, wording: AppWording = {}): never {
  throw new AppErrorException(appError(code, message, hint, wording));
}

/** Converts anything thrown into an AppError; unexpected exceptions become INTERNAL with their message kept. */
export function toAppError(thrown: unknown): AppError {
  if (thrown instanceof AppErrorException) return thrown.appError;
  if (isAppError(thrown)) return thrown;
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return appError(
    'INTERNAL',
    `Unexpected failure: ${message}`,
    'This is a bug in ToxScope. Run `toxscope doctor`, then report the message and what you were doing.',
  );
}
