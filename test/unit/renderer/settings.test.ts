// Remembered settings are read field by field, so a hand-edited or older file never breaks the app.

import { describe, expect, it } from 'vitest';
import { readStoredSettings } from '../../../src-renderer/src/lib/stored-settings.ts';

const defaults = {
  models: [],
  classifiers: [],
  defaultClassifier: 'demo:classifier',
  device: 'auto',
  reviewer: '',
  aliases: {},
};

describe('stored settings', () => {
  it('keeps valid fields and replaces the rest with defaults', () => {
    expect(readStoredSettings(null)).toEqual(defaults);
    expect(readStoredSettings({ models: ['/m/gpt2', 'gpt2', '/m/gpt2'], device: 'cpu' })).toEqual({
      ...defaults,
      models: ['/m/gpt2', 'gpt2'],
      device: 'cpu',
    });
    expect(readStoredSettings({ models: ['ok', 3, '', null], device: 'tpu' })).toEqual({ ...defaults, models: ['ok'] });
    expect(readStoredSettings({ models: 'not a list' })).toEqual(defaults);
  });

  it('reads the toxicity classifiers and the default classifier, which starts as the demo classifier', () => {
    expect(
      readStoredSettings({
        models: [],
        classifiers: ['/m/toxic-bert', 'unitary/toxic-bert', '/m/toxic-bert', 7],
        defaultClassifier: ' unitary/toxic-bert ',
        device: 'auto',
      }),
    ).toEqual({
      ...defaults,
      classifiers: ['/m/toxic-bert', 'unitary/toxic-bert'],
      defaultClassifier: 'unitary/toxic-bert',
    });
    // A settings file from before classifiers were remembered.
    expect(readStoredSettings({ models: ['gpt2'], device: 'cpu' }).defaultClassifier).toBe('demo:classifier');
    expect(readStoredSettings({ defaultClassifier: '' }).defaultClassifier).toBe('demo:classifier');
    expect(readStoredSettings({ defaultClassifier: 42 }).defaultClassifier).toBe('demo:classifier');
  });

  it('keeps the reviewer name on one line, trimmed and at most 200 characters; anything else is no name', () => {
    expect(readStoredSettings({ reviewer: '  Ada\n Lovelace\t' }).reviewer).toBe('Ada Lovelace');
    expect(readStoredSettings({ reviewer: 'x'.repeat(300) }).reviewer).toBe('x'.repeat(200));
    expect(readStoredSettings({ reviewer: 42 }).reviewer).toBe('');
    expect(readStoredSettings({ models: ['gpt2'] }).reviewer).toBe('');
  });

  it('keeps the names of listed models only, each on one line; a name that is not text is dropped', () => {
    const stored = readStoredSettings({
      models: ['/m/base', '/m/dpo', '/m/other'],
      aliases: { '/m/base': ' my\nbase ', '/m/dpo': 7, '/m/gone': 'removed model', '/m/other': '  ' },
    });
    expect(stored.aliases).toEqual({ '/m/base': 'my base' });
    expect(readStoredSettings({ models: ['/m/base'], aliases: ['not', 'a', 'map'] }).aliases).toEqual({});
    expect(readStoredSettings({ models: ['/m/base'], aliases: { '/m/base': 'x'.repeat(100) } }).aliases).toEqual({
      '/m/base': 'x'.repeat(80),
    });
  });
});
