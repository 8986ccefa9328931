// Exit codes of the public CLI contract (shared/specs/cli.md, "Common"), plus 4 for an engine that failed to run
// and 1 for what can only be a bug; README's "Exit codes" lists them all.

import type { ErrorCode } from '../shared/index.ts';

export const exitCodes = { ok: 0, failure: 1, badInput: 2, invalidModel: 3, engineFailed: 4, cancelled: 130 } as const;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'INPUT_INVALID':
      return exitCodes.badInput;
    case 'MODEL_NOT_FOUND':
    case 'WEIGHTS_INVALID':
    case 'OUT_OF_MEMORY': // refused before loading, with the estimate (cli.md, "Decoder LLMs")
      return exitCodes.invalidModel;
    case 'RUNTIME_FAILED': // onnxruntime refused to create or run a session
    case 'DEVICE_UNAVAILABLE': // the execution provider asked for does not load here
    case 'ENGINE_CRASHED': // the worker thread running the job died
      return exitCodes.engineFailed;
    case 'CANCELLED':
      return exitCodes.cancelled;
    case 'UNKNOWN_CHANNEL':
    case 'UNKNOWN_JOB':
    case 'JOB_NOT_FOUND':
    case 'INTERNAL':
      return exitCodes.failure;
  }
}
