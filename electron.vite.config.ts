// Builds the three bundles: main (Electron main, CLI, engine worker and compare's model worker, for Node), preload
// (CommonJS for the sandbox) and the Svelte renderer. `electron-vite build` needs no Electron binary.

import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';
import { resolve } from 'node:path';

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          'electron-main': resolve('src-main/electron/main.ts'),
          cli: resolve('src-main/cli/main.ts'),
          'engine-worker': resolve('src-main/host/engine-worker.ts'),
          // One model of a compare on a thread of its own (compare-model-thread.ts names this file).
          'compare-model-worker': resolve('src-main/core/interp/compare-model-worker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { preload: resolve('src-main/electron/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src-renderer',
    base: './',
    plugins: [svelte()],
    build: {
      outDir: 'out/renderer',
      rollupOptions: { input: resolve('src-renderer/index.html') },
    },
  },
});
