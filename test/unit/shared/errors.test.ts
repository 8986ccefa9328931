// Unit tests of AppError values and their conversion from anything thrown.

import { describe, expect, it } from 'vitest';
import { AppErrorException, appError, isAppError, raise, toAppError } from '../../../src-main/shared/index.ts';

describe('AppError', () => {
  it('keeps code, message and hint of a raised error', () => {
    let caught: unknown;
    try {
      raise('WEIGHTS_INVALID', 'bad header', 'fix it');
    } catch (thrown) {
      caught = thrown;
    }
    expect(caught).toBeInstanceOf(AppErrorException);
    expect(toAppError(caught)).toEqual({ code: 'WEIGHTS_INVALID', message: 'bad header', hint: 'fix it' });
  });

  it('turns an unexpected exception into INTERNAL with its message and a hint', () => {
    const error = toAppError(new RangeError('index 7 out of range'));
    expect(error.code).toBe('INTERNAL');
    expect(error.message).toContain('index 7 out of range');
    expect(error.hint).toMatch(/doctor/);
  });

  it('recognises plain AppError objects that crossed a thread boundary', () => {
    expect(isAppError(appError('CANCELLED', 'm', 'h'))).toBe(true);
    expect(isAppError({ code: 'NOT_A_CODE', message: 'm', hint: 'h' })).toBe(false);
    expect(isAppError({ code: 'CANCELLED', message: 'm' })).toBe(false);
  });
});
