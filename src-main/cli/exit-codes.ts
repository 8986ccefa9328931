// Exit codes of the public CLI contract (shared/specs/cli.md, "Common").

import type { ErrorCode } from '../shared/index.ts';

export const exitCodes = { ok: 0, failure: 1, badInput: 2, invalidModel: 3, cancelled: 130 } as const;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'INPUT_INVALID':
      return exitCodes.badInput;
    case 'MODEL_NOT_FOUND':
    case 'WEIGHTS_INVALID':
    case 'OUT_OF_MEMORY': // refused before loading, with the estimate (cli.md, "Decoder LLMs")
      return exitCodes.invalidModel;
    case 'CANCELLED':
      return exitCodes.cancelled;
    default:
      return exitCodes.failure;
  }
}
