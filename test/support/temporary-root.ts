// Vitest global setup: the temporary folders every test makes (os.tmpdir()) go into one folder per test run, removed
// when the run ends, so repeated runs do not fill the disk (below a tenth free, saved prepacked copies stop being
// written and their tests fail). Set TOXSCOPE_KEEP_TEST_FILES=1 to keep the folder and see its path.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const root = mkdtempSync(join(os.tmpdir(), 'toxscope-test-run-'));
  process.env.TMPDIR = root; // inherited by the test workers and every process they start
  return () => {
    if (process.env.TOXSCOPE_KEEP_TEST_FILES) console.log(`test files kept in ${root}`);
    else rmSync(root, { recursive: true, force: true });
  };
}
