// Remembered settings are read field by field, so a hand-edited or older file never breaks the app.

import { describe, expect, it } from 'vitest';
import { readStoredSettings } from '../../../src-renderer/src/lib/stored-settings.ts';

describe('stored settings', () => {
  it('keeps valid fields and replaces the rest with defaults', () => {
    expect(readStoredSettings(null)).toEqual({ models: [], device: 'auto' });
    expect(readStoredSettings({ models: ['/m/gpt2', 'gpt2', '/m/gpt2'], device: 'cpu' })).toEqual({
      models: ['/m/gpt2', 'gpt2'],
      device: 'cpu',
    });
    expect(readStoredSettings({ models: ['ok', 3, '', null], device: 'tpu' })).toEqual({
      models: ['ok'],
      device: 'auto',
    });
    expect(readStoredSettings({ models: 'not a list' })).toEqual({ models: [], device: 'auto' });
  });
});
