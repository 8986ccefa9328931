// The command-line front door: parses arguments, runs one command, maps failures to the contract's exit codes.
// Every failure prints what went wrong and what to do; never only a stack trace.

import { parseArgs } from 'node:util';
import { appVersion } from '../core/app-version.ts';
import { toAppError } from '../shared/index.ts';
import { classifyCommand } from './commands/classify.ts';
import { doctorCommand } from './commands/doctor.ts';
import {
  activationsCommand,
  generateCommand,
  inspectCommand,
  tokenizeCommand,
  type CommandContext,
} from './commands/model-commands.ts';
import { compareCommand, detoxCommand, interveneCommand, probeCommand } from './commands/interp-commands.ts';
import { mergeCommand } from './commands/merge.ts';
import { serveCommand } from './commands/serve.ts';
import { exitCodeFor, exitCodes } from './exit-codes.ts';
import type { CliIo } from './io.ts';
import { UsageError } from './usage-error.ts';

export interface CliPaths {
  workerUrl: URL;
  rendererDir: URL;
}

const common = '  Common: --device auto|cpu|cuda|webgpu (default auto), --threads N, --quiet, --weights FILE';

interface Command {
  summary: string;
  usage: string;
  run(args: string[], context: CommandContext & { paths: CliPaths }): Promise<number>;
}

const commands: Record<string, Command> = {
  inspect: {
    summary: 'inspect <model> [--weights F]            Architecture, sizes, tokenizer and weights fingerprint (JSON).',
    usage:
      'Usage: toxscope inspect <model> [--weights FILE]\n  Prints {"architecture", "nLayers", "dModel", ...} as JSON.\n',
    run: inspectCommand,
  },
  tokenize: {
    summary:
      'tokenize <model> --text T                 Token ids and tokens, exactly as Hugging Face gives them (JSON).',
    usage: 'Usage: toxscope tokenize <model> --text T\n',
    run: tokenizeCommand,
  },
  activations: {
    summary: 'activations <model> (--text T | --ids 1,2) --out F.safetensors [--hooks LIST] [--prepend-bos]',
    usage: `Usage: toxscope activations <model> [--weights F] (--text T | --ids 1,2,3) --out FILE.safetensors [--hooks LIST] [--prepend-bos]\n  Writes float32 tensors named by hook (batch dropped) and input_ids. Default hooks: blocks.*.mlp.hook_post,logits.\n  --hooks takes names or globs, e.g. blocks.*.hook_resid_post,ln_final.hook_normalized\n${common}\n`,
    run: activationsCommand,
  },
  generate: {
    summary: 'generate <model> --prompt T [--max-new-tokens 20] [--sample ...] [--json]   Greedy or sampled text.',
    usage: `Usage: toxscope generate <model> [--weights F] --prompt T [--max-new-tokens 20] [--sample --temperature x --top-k k --top-p p --seed s] [--json]\n  Greedy by default. --sample defaults: temperature 1, top-k 50, top-p 1, seed 0.\n${common}\n`,
    run: generateCommand,
  },
  compare: {
    summary:
      'compare --base M --dpo M|F --probe F --prompts F --out DIR   Base vs DPO, neuron by neuron (neurons.csv, summary.json, ...).',
    usage: `Usage: toxscope compare --base <model> [--base-weights F] --dpo <model|weights file> --probe FILE --prompts FILE [--column NAME]
         [--max-new-tokens 20] [--max-prompt-tokens 32] [--limit N] [--batch 32] [--weight-processing none|center] [--no-bos]
         [--classifier <model>|none] [--classifier-tokenizer DIR] [--shard K/N] --out DIR
  Each model greedily continues every prompt; the last position's MLP activations of each forward pass are averaged.
  Writes DIR/neurons.csv, summary.json, generations.jsonl, manifest.json. Run it again with the same --out to resume.
  --classifier (default demo:classifier when installed; none = no classifier) scores both models' continuations: each
  one's toxicity in generations.jsonl, and the base and DPO mean and fraction above 0.5 in summary.json's "classifier".
  --weight-processing center row-centres W_out as TransformerLens does (the published GPT-2 numbers).
  --shard K/N does only prompts K, K+N, K+2N, … (1-based) and writes a partial result for \`toxscope merge\`.
${common}
`,
    run: compareCommand,
  },
  intervene: {
    summary:
      'intervene --model M --probe F --prompts F --intervention SPEC --out DIR   Toxicity, perplexity, F1 under one intervention.',
    usage: `Usage: toxscope intervene --model <model> [--weights F] --probe FILE --prompts FILE [--column NAME] --intervention SPEC
         [--ppl-text FILE] [--f1-data FILE] [--scorer <model>] [--classifier <model>|none] [--classifier-tokenizer DIR]
         [--max-new-tokens 20] [--max-prompt-tokens 32] [--limit N] [--batch 16] [--shard K/N] --out DIR
  SPEC: none | ablate:top=N[,positive=DIR] | patch:csv=FILE | patch:groups=TP-+AN-,from=DIR
        | patch:neurons=L19N770+L3N2,from=DIR | edit:alpha=A,beta=B[,from=DIR] | subtract:alpha=A[,layer=L]
        | scale-keys:top=N,factor=F   (DIR = a compare output folder)
  Toxicity is the probe's logit on each continuation's mean residual, computed by the unmodified scorer
  (default: --model without --weights). --classifier (default demo:classifier when installed; none = no classifier)
  scores every continuation too: mean and fraction above 0.5 in summary.json's toxicity.classifier.
  Writes DIR/summary.json, generations.jsonl, manifest.json. --shard K/N does only prompts K, K+N, … and writes a
  partial result for \`toxscope merge\` (shard 1 also measures --ppl-text and --f1-data).
${common}
`,
    run: interveneCommand,
  },
  probe: {
    summary:
      'probe train --model M --data F.csv --text-column C --label-column L --out P.safetensors   Train a toxicity probe.',
    usage: `Usage: toxscope probe train --model <model> [--weights F] --data FILE.csv --text-column NAME --label-column NAME
         [--positive-label VALUE] [--max-tokens 128] [--limit N] [--held-out 0.1] [--seed 0] [--batch 16] --out PROBE.safetensors
  Logistic regression (L2, C = 1) on the mean last-layer residual over each text's tokens; reports held-out accuracy.
  Labels: numbers ≥ 0.5 or hate/toxic/offensive/true/yes mean toxic, unless --positive-label names the toxic value.
  Writes PROBE.safetensors (tensor "probe") and PROBE.safetensors.json (hook, bias, accuracy, data sha256).
${common}
`,
    run: probeCommand,
  },
  detox: {
    summary: 'detox --base M --expert M --anti-expert M (--text T | --in F | --in-dir D --out-dir D)   MaRCo rewrite.',
    usage: `Usage: toxscope detox --base <model> --expert <model> --anti-expert <model> (--text T | --in FILE) [--out FILE] [--explain FILE.json]
       toxscope detox --base <model> --expert <model> --anti-expert <model> --in-dir DIR --out-dir DIR [--shard K/N]
         [--preset magr|sbf|dynahate] [--threshold 1.2] [--alpha-base 1] [--alpha-expert 4.25] [--alpha-anti 1.5] [--temperature 2.5]
         [--repetition-penalty 1.0] [--max-length 128] [--divergence symmetric-kl|jsd] [--index-quirk] [--sample --seed s --top-k k --top-p p] [--batch 32]
         [--classifier <model>|none] [--classifier-tokenizer DIR] [--toxicity-threshold 0.5] [--max-resamples 3] [--blocklist FILE|none]
  Masks the words where the expert and anti-expert disagree most, rewrites those sentences with the product of experts,
  and keeps every other byte of the document. Without --out the document goes to stdout. Defaults: the MAgr preset.
  Toxicity gate (default classifier: demo:classifier when installed; none = MaRCo on every sentence): only sentences
  the classifier scores above --toxicity-threshold are rewritten; a rewrite that is not less toxic than its original,
  or adds a word of the blocklist (default resources/detox/blocklist.txt), is re-sampled up to --max-resamples times,
  else the original is kept. --explain records each sentence's toxicity before/after and why a rewrite was refused.
  --in-dir: every .txt/.md file under DIR (recursively) into --out-dir with the same relative path, explanations in
  OUT/explain/, OUT/summary.json and OUT/manifest.json; run it again to resume (exit 2 when a file could not be read:
  the others are written). --shard K/N does files K, K+N, … for \`toxscope merge\`.
${common}\n`,
    run: detoxCommand,
  },
  classify: {
    summary:
      'classify <model> (--text T | --in F) [--out F.jsonl]   Toxicity scores from a BERT/RoBERTa or Detoxify classifier.',
    usage: `Usage: toxscope classify <model> [--tokenizer DIR|org/name] (--text T | --in FILE) [--out FILE.jsonl] [--batch N] [--max-length N]
  <model>: a BERT/RoBERTa sequence classifier (folder, cached org/name, demo:classifier) or a Detoxify .ckpt, whose
  config.json and tokenizer come from --tokenizer (else its base model in the local Hugging Face cache).
  --in: .txt (one text a line) or .jsonl (one {"text": ...} a line); empty lines are skipped.
  Prints one JSON object per text, {"text", "labels", "scores", "activation"}, in input order (JSONL; to --out when given).
  --max-length counts the special tokens (default 512, or less when the tokenizer or the model allows less);
  --batch defaults to what free memory holds.
${common}
`,
    run: classifyCommand,
  },
  merge: {
    summary:
      'merge OUT DIR…                            Combine the --shard K/N folders of one run into the files one run writes.',
    usage: `Usage: toxscope merge OUT DIR1 DIR2 … [--json] [--quiet]
  Combines the shard folders of one compare, intervene or detox --in-dir run (given in any order) into OUT, exactly the
  files a single run writes (compare: neurons.csv, summary.json, generations.jsonl in prompt order, manifest.json
  listing the shards). Refuses (exit 2, naming the folder) a missing or duplicated shard, and shards that differ in
  models, probe, prompts, settings or ToxScope version. --json prints what was written.
`,
    run: mergeCommand,
  },
  serve: {
    summary:
      'serve [--port P]                          Serve the desktop UI to a browser on 127.0.0.1 (token required).',
    usage:
      'Usage: toxscope serve [--port P]\n  Serves the UI on http://127.0.0.1:P/ (P = 0 or omitted: a free port).\n',
    run: (args, { io, paths }) => {
      const { values } = parseArgs({ args, options: { port: { type: 'string' } }, strict: true });
      return serveCommand({ port: parsePort(values.port), ...paths }, io);
    },
  },
  doctor: {
    summary:
      'doctor [--json]                           Versions, execution providers that load, CPU, memory, Electron, display.',
    usage: 'Usage: toxscope doctor [--json]\n  Prints what this machine can run; --json for scripts.\n',
    run: (args, { io }) => {
      const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } }, strict: true });
      return doctorCommand({ json: values.json }, io);
    },
  },
};

const usage = `ToxScope ${appVersion} — neuron-level DPO analysis and MaRCo detoxification, offline.

Usage: toxscope <command> [options]

Commands:
${Object.values(commands)
  .map((command) => `  ${command.summary}`)
  .join('\n')}

<model> is a Hugging Face folder, an org/name in the local Hugging Face cache, or demo:gpt2-base.

Options:
  -h, --help           Show this help (or a command's: toxscope <command> --help).
  -v, --version        Print the version.

Exit codes: 0 success, 1 unexpected failure (a bug: please report it), 2 bad usage or input,
  3 invalid model/weights/probe, 4 the engine failed to run it (onnxruntime error, device unavailable,
  engine crashed), 130 cancelled.
`;

function parsePort(value: string | undefined): number {
  if (value === undefined) return 0;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be 0..65535, got "${value}".`);
  return port;
}

function isParseArgsError(thrown: unknown): thrown is Error {
  return thrown instanceof TypeError && 'code' in thrown && String(thrown.code).startsWith('ERR_PARSE_ARGS');
}

export async function runCli(argv: string[], io: CliIo, paths: CliPaths): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    io.stdout(usage);
    return name === undefined ? exitCodes.badInput : exitCodes.ok;
  }
  if (name === '-v' || name === '--version') {
    io.stdout(`${appVersion}\n`);
    return exitCodes.ok;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  try {
    if (!command) throw new UsageError(`Unknown command "${name}".`);
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout(command.usage);
      return exitCodes.ok;
    }
    return await command.run(rest, { io, workerUrl: paths.workerUrl, paths });
  } catch (thrown) {
    if (thrown instanceof UsageError || isParseArgsError(thrown)) {
      io.stderr(`toxscope: ${thrown.message}\nRun \`toxscope ${command ? `${name} ` : ''}--help\` for the options.\n`);
      return exitCodes.badInput;
    }
    const error = toAppError(thrown);
    io.stderr(`toxscope: ${error.message}\nhint: ${error.hint}\n`);
    return exitCodeFor(error.code);
  }
}
