// The AppError a call raised, for tests of refusals: fails the test when the call does not throw.

import { toAppError, type AppError } from '../../src-main/shared/index.ts';

export function raisedBy(action: () => unknown): AppError {
  try {
    action();
  } catch (thrown) {
    return toAppError(thrown);
  }
  throw new Error('expected the call to raise an error');
}
