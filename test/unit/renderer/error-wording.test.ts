// The app's wording of engine errors: its own hint where the engine wrote one, else command-line options named by the
// form labels that set them; the label of the field an error is about.

import { describe, expect, it } from 'vitest';
import { appError } from '../../../src-main/shared/index.ts';
import { appHintOf, appMessageOf, fieldLabel, withFormLabels } from '../../../src-renderer/src/lib/error-wording.ts';

describe('error wording in the app', () => {
  it('prefers the hint the engine wrote for the app', () => {
    const error = appError('INPUT_INVALID', 'No prompts file at /x.', 'Pass --prompts FILE (.jsonl, .txt or .csv).', {
      field: 'prompts',
      appHint: 'Choose a prompts file that exists (.jsonl or .txt).',
    });
    expect(appHintOf(error)).toBe('Choose a prompts file that exists (.jsonl or .txt).');
    expect(fieldLabel(error.field)).toBe('Prompts file');
  });

  it('names command-line options by their form labels where there is no app hint', () => {
    expect(withFormLabels('Check the path given to --blocklist, or pass --blocklist none.')).toBe(
      'Check the path given to “Blocklist file”, or pass an empty “Blocklist file”.',
    );
    expect(withFormLabels('Lower --batch or try --device cpu.')).toBe(
      'Lower “Prompts per batch” or try CPU in Settings.',
    );
    expect(appMessageOf(appError('INPUT_INVALID', '--max-length 600 does not fit.', 'x'))).toBe(
      '“Max length” 600 does not fit.',
    );
  });

  it('leaves options the app has no field for, and plain text, as they are', () => {
    expect(withFormLabels('Leave out --prepend-bos.')).toBe('Leave out --prepend-bos.');
    expect(withFormLabels('Pass --prompts FILE (.jsonl).')).toBe('Pass “Prompts file” (.jsonl).');
    expect(withFormLabels('A well-known, non--option text.')).toBe('A well-known, non--option text.');
    expect(fieldLabel(undefined)).toBeNull();
    expect(fieldLabel('somethingElse')).toBeNull();
  });
});
