// Proves the layer rules bite: code that crosses a process boundary fails the lint with a message saying why.

import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });

async function ruleMessages(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((message) => `${message.ruleId}: ${message.message}`);
}

describe('layer rules', () => {
  it('fail core/ code that imports Electron', async () => {
    const messages = await ruleMessages(
      'src-main/core/example.ts',
      "import { app } from 'electron';\nexport const a = app;\n",
    );
    expect(messages).toEqual([
      expect.stringMatching(/no-restricted-imports: .*Only src-main\/electron\/ may import Electron/),
    ]);
  });

  it('fail core/ code that uses the DOM', async () => {
    const messages = await ruleMessages('src-main/core/example.ts', 'export const title = document.title;\n');
    expect(messages).toEqual([expect.stringMatching(/no-restricted-globals: .*no DOM/)]);
  });

  it('fail core/ code that depends on a front door', async () => {
    const messages = await ruleMessages(
      'src-main/core/jobs/example.ts',
      "import { startServer } from '../../server/server.ts';\nexport const s = startServer;\n",
    );
    expect(messages).toEqual([expect.stringMatching(/core\/ must not depend on a front door/)]);
  });

  it('fail renderer code that imports core/ or Node built-ins', async () => {
    const messages = await ruleMessages(
      'src-renderer/src/example.ts',
      "import { appVersion } from '../../src-main/core/app-version.ts';\nimport fs from 'node:fs';\nexport const a = [appVersion, fs];\n",
    );
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatch(/renderer may import only src-main\/shared/);
    expect(messages[1]).toMatch(/no Node built-ins/);
  });

  it('fail an onnxruntime-node import outside the runtime module', async () => {
    const messages = await ruleMessages(
      'src-main/core/interp/example.ts',
      "import ort from 'onnxruntime-node';\nexport const o = ort;\n",
    );
    expect(messages).toEqual([
      expect.stringMatching(/Only src-main\/core\/runtime\/onnxruntime.ts imports onnxruntime-node/),
    ]);
  });

  it('fail a Hugging Face tokenizers import outside the tokenizer module, and pass it there', async () => {
    const code = "import { Tokenizer } from 'tokenizers';\nexport const t = Tokenizer;\n";
    expect(await ruleMessages('src-main/core/detox/example.ts', code)).toEqual([
      expect.stringMatching(/Only src-main\/core\/tokenizer\/hf-tokenizer.ts imports Hugging Face tokenizers/),
    ]);
    expect(await ruleMessages('src-main/core/tokenizer/hf-tokenizer.ts', code)).toEqual([]);
  });

  it('pass the renderer importing the shared contract', async () => {
    const messages = await ruleMessages(
      'src-renderer/src/example.ts',
      "import { appError } from '../../src-main/shared/index.ts';\nexport const e = appError;\n",
    );
    expect(messages).toEqual([]);
  });
});
