// ESLint: TypeScript and Svelte rules plus the layer rules that keep the process boundaries visible in the tree.
// Layers: shared (pure contract) ← core (plain Node) ← host/server/cli (Node front doors) ← electron (Electron only);
// the renderer sees only shared. onnxruntime-node, onnx-proto and tokenizers each have exactly one home.

import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const restrict = (...patterns) => [
  'error',
  { paths: patterns.filter((p) => typeof p.name === 'string'), patterns: patterns.filter((p) => p.regex) },
];
const electronBan = { name: 'electron', message: 'Only src-main/electron/ may import Electron.' };
const onnxruntimeBan = {
  name: 'onnxruntime-node',
  message: 'Only src-main/core/runtime/onnxruntime.ts imports onnxruntime-node.',
};
const protobufBan = { name: 'onnx-proto', message: 'Only src-main/core/onnx/ imports the ONNX protobuf schema.' };
const tokenizersBan = {
  name: 'tokenizers',
  message: 'Only src-main/core/tokenizer/hf-tokenizer.ts imports Hugging Face tokenizers; use the Tokenizer interface.',
};
const frontDoorBan = {
  regex: '(^|/)(host|server|cli|electron)/',
  message: 'core/ must not depend on a front door or the engine host.',
};
const nodeBan = { regex: '^node:', message: 'This layer runs in a browser or Electron renderer: no Node built-ins.' };
const mainBan = {
  regex: 'src-main/(?!shared/)',
  message: 'The renderer may import only src-main/shared (the typed contract).',
};
const sharedOnly = {
  regex: '^\\.\\./(core|host|server|cli|electron)/|^\\.\\./\\.\\./',
  message: 'shared/ imports nothing outside itself.',
};

export default tseslint.config(
  { ignores: ['out/', 'node_modules/', 'test-results/', 'test/fixtures/lint/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-empty': ['error', { allowEmptyCatch: false }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: {
      globals: { ...globals.browser },
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] },
    },
  },
  { files: ['src-renderer/**'], languageOptions: { globals: { ...globals.browser } } },

  // Layer rules.
  {
    files: ['src-main/shared/**'],
    rules: {
      'no-restricted-imports': restrict(electronBan, onnxruntimeBan, protobufBan, tokenizersBan, nodeBan, sharedOnly),
    },
  },
  {
    files: ['src-main/core/**'],
    rules: { 'no-restricted-imports': restrict(electronBan, onnxruntimeBan, protobufBan, tokenizersBan, frontDoorBan) },
  },
  {
    files: ['src-main/core/runtime/onnxruntime.ts'],
    rules: { 'no-restricted-imports': restrict(electronBan, protobufBan, tokenizersBan, frontDoorBan) },
  },
  {
    files: ['src-main/core/onnx/**'],
    rules: { 'no-restricted-imports': restrict(electronBan, onnxruntimeBan, tokenizersBan, frontDoorBan) },
  },
  {
    files: ['src-main/core/tokenizer/hf-tokenizer.ts'],
    rules: { 'no-restricted-imports': restrict(electronBan, onnxruntimeBan, protobufBan, frontDoorBan) },
  },
  {
    files: ['src-main/core/**'],
    rules: {
      'no-restricted-globals': [
        'error',
        ...['window', 'document', 'navigator', 'localStorage'].map((name) => ({
          name,
          message: 'core/ is plain Node: no DOM.',
        })),
      ],
    },
  },
  {
    files: ['src-main/host/**', 'src-main/server/**', 'src-main/cli/**'],
    rules: { 'no-restricted-imports': restrict(electronBan, onnxruntimeBan, protobufBan, tokenizersBan) },
  },
  {
    files: ['src-main/electron/**'],
    rules: { 'no-restricted-imports': restrict(onnxruntimeBan, protobufBan, tokenizersBan) },
  },
  {
    files: ['src-renderer/**'],
    rules: {
      'no-restricted-imports': restrict(electronBan, onnxruntimeBan, protobufBan, tokenizersBan, nodeBan, mainBan),
    },
  },
);
