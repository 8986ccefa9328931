// The registry of jobs the engine host can run, keyed by the catalogue's names.

import type { JobCatalogue, JobName } from '../../shared/index.ts';
import { detoxBatchJob } from '../detox/batch-job.ts';
import { detoxJob } from '../detox/detox-job.ts';
import { runGemmBenchmark } from '../diagnostics/gemm-benchmark.ts';
import { compareJob } from '../interp/compare-job.ts';
import { interveneJob } from '../interp/intervene-job.ts';
import { neuronDetailJob } from '../interp/neuron-detail-job.ts';
import { probeTrainJob } from '../interp/probe-train-job.ts';
import { collectDoctorReport } from '../diagnostics/doctor.ts';
import { appVersion } from '../app-version.ts';
import { classifyJob } from '../models/classifier/classify-job.ts';
import {
  activationsJob,
  catalogueJob,
  clearGraphCacheJob,
  generateJob,
  inspectClassifierJob,
  inspectJob,
  tokenizeJob,
} from '../models/model-jobs.ts';
import {
  deleteResultJob,
  exportResultJob,
  generationsJob,
  listResultsJob,
  openResultJob,
  renameResultJob,
} from '../results/result-jobs.ts';
import { mergeShardsJob } from '../scale-out/merge.ts';
import type { Job } from './job.ts';

export type JobRegistry = {
  [N in JobName]: Job<JobCatalogue[N]['request'], JobCatalogue[N]['frame'], JobCatalogue[N]['result']>;
};

export const jobRegistry: JobRegistry = {
  'device:benchmark': runGemmBenchmark,
  'model:inspect': inspectJob,
  'model:tokenize': tokenizeJob,
  'model:activations': activationsJob,
  'model:generate': generateJob,
  'interp:compare': compareJob,
  'interp:intervene': interveneJob,
  'interp:probe-train': probeTrainJob,
  'detox:run': detoxJob,
  'detox:batch': detoxBatchJob,
  'classify:run': classifyJob,
  'classifier:inspect': inspectClassifierJob,
  'model:catalogue': catalogueJob,
  'app:doctor': () => collectDoctorReport(appVersion),
  'graphs:clear': clearGraphCacheJob,
  'interp:neuron': neuronDetailJob,
  'results:list': listResultsJob,
  'results:open': openResultJob,
  'results:rename': renameResultJob,
  'results:delete': deleteResultJob,
  'results:export': exportResultJob,
  'results:merge': mergeShardsJob,
  'results:generations': generationsJob,
};
