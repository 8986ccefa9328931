// The results-history jobs: thin wrappers that run the bundle operations on a worker thread, so reading a
// 98,304-row neurons.csv never blocks a window.

import type {
  GenerationsResult,
  ResultBundle,
  ResultEntry,
  ResultExport,
  ResultPathRequest,
  ResultRenameRequest,
  ResultsListRequest,
  ResultsListResult,
} from '../../shared/index.ts';
import type { Job } from '../jobs/job.ts';
import { readGenerations } from './generations.ts';
import { deleteResult, exportResult, listResults, openResult, renameResult } from './result-bundles.ts';
import { listShardGroups } from '../scale-out/shard-groups.ts';

export const listResultsJob: Job<ResultsListRequest, never, ResultsListResult> = async ({ folder }) => ({
  folder,
  results: listResults(folder),
  shardGroups: listShardGroups(folder),
});
export const openResultJob: Job<ResultPathRequest, never, ResultBundle> = async ({ path }) => openResult(path);
export const renameResultJob: Job<ResultRenameRequest, never, ResultEntry> = async ({ path, name }) =>
  renameResult(path, name);
export const deleteResultJob: Job<ResultPathRequest, never, { deleted: string }> = async ({ path }) =>
  deleteResult(path);
export const exportResultJob: Job<ResultPathRequest, never, ResultExport> = async ({ path }) => exportResult(path);
export const generationsJob: Job<ResultPathRequest, never, GenerationsResult> = async ({ path }) =>
  readGenerations(path);
