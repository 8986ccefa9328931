// One model of a compare on a worker thread of its own (compare-model-worker.ts), seen from the compare job: it opens
// the model's session, computes its static neuron quantities and generates batch after batch into running sums that
// live next to the model. The job starts the base and the DPO model at once, so their sessions open side by side (an
// onnxruntime-node session opens on the calling thread, on one core), and on the CPU their batches run side by side too.

import { Worker } from 'node:worker_threads';
import { AppErrorException, appError, type AppError, type WeightProcessing } from '../../shared/index.ts';
import type { DecoderRun, DecoderSessionOptions } from '../models/decoder/open-session.ts';
import type { ActivationSums } from './collect-activations.ts';
import type { ModelSource } from './compare-models.ts';
import type { StaticNeuronQuantities } from './neuron-statistics.ts';

/** The bundle entry (electron.vite.config.ts) that runs compare-model-worker.ts. */
export const compareModelWorkerEntry = 'compare-model-worker.js';

/** What the worker needs to stand up one model (its workerData). */
export interface CompareModelInit {
  source: ModelSource;
  /** ŵ [d_model]. */
  unit: Float64Array;
  weightProcessing: WeightProcessing;
  graphOptions: DecoderSessionOptions;
  run: DecoderRun;
  /** The running sums to continue: empty, or a resumed run's. */
  sums: ActivationSums;
  maxNewTokens: number;
  padTokenId: number;
}

export type ToCompareModel = { type: 'batch'; prompts: number[][] } | { type: 'cancel' } | { type: 'release' };

export type FromCompareModel =
  | { type: 'ready'; statics: StaticNeuronQuantities }
  | { type: 'batch'; generated: number[][]; sums: ActivationSums }
  | { type: 'error'; error: AppError };

export class CompareModelThread {
  /** The model's running sums after its last finished batch. */
  sums: ActivationSums;
  readonly statics: StaticNeuronQuantities;
  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  readonly #label: string;
  readonly #onCancel = () => this.#worker.postMessage({ type: 'cancel' } satisfies ToCompareModel);
  readonly #signal: AbortSignal;

  private constructor(
    worker: Worker,
    exited: Promise<void>,
    statics: StaticNeuronQuantities,
    init: CompareModelInit,
    label: string,
    signal: AbortSignal,
  ) {
    this.#worker = worker;
    this.#exited = exited;
    this.statics = statics;
    this.sums = init.sums;
    this.#label = label;
    this.#signal = signal;
    signal.addEventListener('abort', this.#onCancel);
  }

  /**
   * Starts the worker and waits until the model's session is open and its static quantities are computed; rejects
   * with the worker's error (the worker has then exited). `label` names the model in errors ("the DPO model").
   */
  static async start(
    workerDir: URL,
    init: CompareModelInit,
    label: string,
    signal: AbortSignal,
  ): Promise<CompareModelThread> {
    const worker = new Worker(new URL(compareModelWorkerEntry, workerDir), { workerData: init });
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const first = await nextMessage(worker, label);
    if (first.type !== 'ready') {
      await worker.terminate();
      throw failure(first, label);
    }
    return new CompareModelThread(worker, exited, first.statics, init, label, signal);
  }

  /** Generates one batch (exactly max-new-tokens per prompt) into the sums; returns the generated ids per prompt. */
  async collect(prompts: number[][]): Promise<number[][]> {
    this.#worker.postMessage({ type: 'batch', prompts } satisfies ToCompareModel);
    const reply = await nextMessage(this.#worker, this.#label);
    if (reply.type !== 'batch') throw failure(reply, this.#label);
    this.sums = reply.sums;
    return reply.generated;
  }

  /** Releases the session and waits for the thread to end. */
  async release(): Promise<void> {
    this.#signal.removeEventListener('abort', this.#onCancel);
    this.#worker.postMessage({ type: 'release' } satisfies ToCompareModel);
    await this.#exited;
  }
}

/** The worker's next message, or an INTERNAL error if the thread dies first (an uncaught error, or an exit). */
function nextMessage(worker: Worker, label: string): Promise<FromCompareModel> {
  return new Promise((resolve, reject) => {
    const stopped = (reason: string) => {
      cleanUp();
      reject(
        new AppErrorException(
          appError(
            'INTERNAL',
            `The thread running ${label} stopped: ${reason}.`,
            'Run the command again; if it stops again, report it with the command you ran.',
          ),
        ),
      );
    };
    const onMessage = (message: FromCompareModel) => {
      cleanUp();
      resolve(message);
    };
    const onError = (error: Error) => stopped(error.message);
    const onExit = (code: number) => stopped(`it exited with code ${code}`);
    const cleanUp = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

function failure(message: FromCompareModel, label: string): AppErrorException {
  if (message.type === 'error') return new AppErrorException(message.error);
  return new AppErrorException(
    appError('INTERNAL', `The thread running ${label} answered "${message.type}" out of turn.`, 'Report this.'),
  );
}
