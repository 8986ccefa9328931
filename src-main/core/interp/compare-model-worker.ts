// Worker-thread entry for one model of a compare (the job's side is compare-model-thread.ts): loads the model, opens
// its session, computes its static neuron quantities, then generates each batch it is sent into its running sums.

import { parentPort, workerData } from 'node:worker_threads';
import { toAppError } from '../../shared/index.ts';
import { openDecoderSession } from '../models/decoder/open-session.ts';
import type { DecoderSession } from '../models/decoder/decoder-session.ts';
import { loadModel } from '../models/load-model.ts';
import { collectBatch } from './collect-activations.ts';
import type { CompareModelInit, FromCompareModel, ToCompareModel } from './compare-model-thread.ts';
import { staticNeuronQuantities } from './neuron-statistics.ts';

if (!parentPort) throw new Error('compare-model-worker.ts must run as a worker thread');
const port = parentPort;
const init = workerData as CompareModelInit;
const send = (message: FromCompareModel) => port.postMessage(message);

let session: DecoderSession | null = null;
try {
  const model = loadModel(init.source.reference, init.source.weightsFile);
  session = (await openDecoderSession(model, init.graphOptions, init.run)).session;
  send({ type: 'ready', statics: staticNeuronQuantities(model, init.unit, init.weightProcessing) });
} catch (thrown) {
  await session?.release();
  session = null;
  send({ type: 'error', error: toAppError(thrown) });
  port.close();
}

if (session) {
  const opened = session;
  let sums = init.sums;
  let cancel = new AbortController();
  // Batches come one at a time (the job waits for each answer). A cancel stops the batch in progress, or the next one
  // when it lands between batches. A failed batch leaves the sums as they were before it, and a fresh controller.
  port.on('message', (message: ToCompareModel) => {
    if (message.type === 'cancel') cancel.abort();
    else if (message.type === 'release') void opened.release().finally(() => port.close());
    else {
      const before = structuredClone(sums);
      void collectBatch(opened, message.prompts, sums, {
        maxNewTokens: init.maxNewTokens,
        padTokenId: init.padTokenId,
        unit: init.unit,
        signal: cancel.signal,
      }).then(
        (generated) => send({ type: 'batch', generated, sums }),
        (thrown: unknown) => {
          sums = before;
          cancel = new AbortController();
          send({ type: 'error', error: toAppError(thrown) });
        },
      );
    }
  });
}
