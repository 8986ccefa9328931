// Runs a loaded classifier's graph on batches of token-id rows: right-pads them with the pad id, masks the padding,
// and returns each row's probabilities for the reported labels (and the head's logits on request). Every row's
// scores equal its unbatched scores (within 1e-5): padding is never attended and never shifts a position.

import { raise, type DeviceReport } from '../../../shared/index.ts';
import { assertFits, estimateMemory } from '../../runtime/memory.ts';
import { createSession, runSession, TensorClass, type Session } from '../../runtime/onnxruntime.ts';
import { prepareCachedGraph, type CachedGraph } from '../graph-cache.ts';
import { buildClassifierGraph, type ClassifierGraphOptions } from './graph.ts';
import type { LoadedClassifier } from './load-classifier.ts';
import { withPackedQkv } from './weights.ts';

export interface ClassifierOpenOptions {
  device: DeviceReport;
  threads?: number;
  /** Default: 'standard' on WebGPU (it lacks com.microsoft.Attention), 'fused' elsewhere. */
  attention?: ClassifierGraphOptions['attention'];
  /** Also return the head's logits. */
  logits?: boolean;
  /** For the memory check: rows and tokens scored at once. */
  batch: number;
  length: number;
}

export interface ClassifierScores {
  /** [rows][labels]: the reported labels' probabilities, in label order. */
  probabilities: Float32Array[];
  /** [rows][n_outputs]: every output of the head, when the session was opened with logits. */
  logits: Float32Array[] | null;
}

/** Activation bytes of one forward: residual stream, MLP, attention scores. */
export function classifierWorkingBytes(model: LoadedClassifier, batch: number, length: number): number {
  const { dModel, dMlp, nHeads } = model.config;
  return 4 * batch * length * (8 * dModel + 2 * dMlp + 2 * nHeads * length);
}

export class ClassifierSession {
  readonly model: LoadedClassifier;
  readonly graph: CachedGraph;
  readonly #session: Session;
  readonly #logits: boolean;

  private constructor(model: LoadedClassifier, graph: CachedGraph, session: Session, logits: boolean) {
    this.model = model;
    this.graph = graph;
    this.#session = session;
    this.#logits = logits;
  }

  static async open(model: LoadedClassifier, options: ClassifierOpenOptions): Promise<ClassifierSession> {
    assertFits(
      estimateMemory(
        model.parameters,
        classifierWorkingBytes(model, options.batch, options.length),
        options.device.used,
      ),
      `${model.reference} (${(model.parameters / 1e6).toFixed(0)}M parameters)`,
    );
    const graphOptions: ClassifierGraphOptions = {
      attention: options.attention ?? (options.device.used === 'webgpu' ? 'standard' : 'fused'),
      logits: options.logits ?? false,
      positionIds: false,
    };
    const weights = graphOptions.attention === 'fused' ? withPackedQkv(model.weights, model.config) : model.weights;
    // The activation is part of the config: a Detoxify checkpoint's graph depends on the base config.json.
    const graph = prepareCachedGraph(
      { fingerprint: model.fingerprint(), config: { ...model.config, activation: model.activation } },
      { part: 'classifier', ...graphOptions },
      weights,
      (weight) => buildClassifierGraph(model.config, model.activation, weight, graphOptions),
    );
    const session = await createSession(graph.modelPath, { device: options.device, threads: options.threads });
    return new ClassifierSession(model, graph, session, graphOptions.logits);
  }

  /** Scores rows of token ids (each already [CLS] … [SEP] / <s> … </s>) in one forward pass. */
  async score(rows: number[][]): Promise<ClassifierScores> {
    const { config, labels, reference } = this.model;
    if (rows.length === 0) return { probabilities: [], logits: this.#logits ? [] : null };
    rows.forEach((row, r) => {
      if (row.length === 0) raise('INPUT_INVALID', `Row ${r} has no tokens.`, 'Tokenize with the special tokens.');
      if (row.length > config.maxTokens) {
        raise(
          'INPUT_INVALID',
          `Row ${r} has ${row.length} tokens, more than ${reference}'s ${config.maxTokens} positions.`,
          'Truncate the input (--max-length) to the model’s positions.',
        );
      }
      const bad = row.find((id) => !Number.isInteger(id) || id < 0 || id >= config.dVocab);
      if (bad !== undefined) {
        raise(
          'INPUT_INVALID',
          `Row ${r} has token id ${bad}, outside ${reference}'s vocabulary of ${config.dVocab}.`,
          'The tokenizer does not belong to this model: pass the matching --tokenizer.',
        );
      }
    });
    const batch = rows.length;
    const length = Math.max(...rows.map((row) => row.length));
    const ids = new BigInt64Array(batch * length).fill(BigInt(config.padTokenId)); // [batch, pos]
    const mask = new BigInt64Array(batch * length); // [batch, pos]
    rows.forEach((row, r) =>
      row.forEach((id, p) => {
        ids[r * length + p] = BigInt(id);
        mask[r * length + p] = 1n;
      }),
    );
    const outputs = await runSession(this.#session, {
      input_ids: new TensorClass('int64', ids, [batch, length]),
      attention_mask: new TensorClass('int64', mask, [batch, length]),
    });
    const n = config.nOutputs;
    const split = (data: Float32Array, width: number) =>
      Array.from({ length: batch }, (_, r) => data.slice(r * n, r * n + width));
    return {
      probabilities: split(outputs.probabilities!.data as Float32Array, labels.length), // [rows][labels]
      logits: this.#logits ? split(outputs.logits!.data as Float32Array, n) : null, // [rows][n_outputs]
    };
  }

  async release(): Promise<void> {
    await this.#session.release();
  }
}
