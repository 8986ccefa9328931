// Test tiers (see docs/testing.md): unit (pure), integration (real onnxruntime, worker threads, the real server),
// e2e (Debian Chromium driven by playwright-core against `toxscope serve`). Integration and e2e use the build in out/.

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    globalSetup: ['./test/support/temporary-root.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' } },
      {
        // One file at a time: the responsiveness test measures latency, which competing files on 2 cores would skew.
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
