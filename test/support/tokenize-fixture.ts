// Writes the token ids of test/fixtures/compare/prompts.jsonl (GPT-2 tokenizer) for the PyTorch reference, which has
// no tokenizer of its own. Run: npx tsx test/support/tokenize-fixture.ts
import { writeFileSync } from 'node:fs';
import { loadTokenizer } from '../../src-main/core/tokenizer/load-tokenizer.ts';
import { readPrompts } from '../../src-main/core/interp/prompts.ts';
import { writeGpt2VocabMergesFolder } from './gpt2-tokenizer-files.ts';

const tokenizer = loadTokenizer(writeGpt2VocabMergesFolder(), 'gpt2').tokenizer;
const ids: number[][] = [];
for await (const prompt of readPrompts(new URL('../fixtures/compare/prompts.jsonl', import.meta.url).pathname))
  ids.push(await tokenizer.encode(prompt.text));
writeFileSync(new URL('../fixtures/compare/prompt-ids.json', import.meta.url), JSON.stringify(ids) + '\n');
