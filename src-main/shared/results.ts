// Result bundles as the history and the neuron explorer see them: the folders compare and intervene write, listed,
// opened (summary and the per-neuron table), renamed, deleted and exported; and one neuron's close-up.

import type { CompareSummary } from './compare.ts';
import type { DeviceChoice } from './device.ts';
import type { CompareRequest, InterveneSummary } from './jobs.ts';

export type ResultKind = 'compare' | 'intervene';

/** One run's folder in the results list. */
export interface ResultEntry {
  path: string;
  kind: ResultKind;
  /** The user's name for the run (set by rename), else the folder name. */
  name: string;
  /** ISO time the run finished, or the folder's modification time for an unfinished one. */
  createdAt: string;
  /** false: an interrupted compare whose partial sums can be resumed. */
  complete: boolean;
  /** For an interrupted compare: the request that resumes it in the same folder (null if it was not recorded). */
  resume: CompareRequest | null;
  /** A compare still writing to this folder (this app or another process): neither resumed nor deleted. */
  running: boolean;
  /** One line for people, e.g. "demo:gpt2-base vs demo:gpt2-dpo · 40 prompts · net reduction 1.26". */
  description: string;
  sizeBytes: number;
}

export interface ResultsListRequest {
  folder: string;
}

export interface ResultsListResult {
  folder: string;
  /** Newest first. */
  results: ResultEntry[];
}

/** neurons.csv by columns (row i of every array is one neuron), the compact form for 98,304 rows. */
export interface NeuronTable {
  count: number;
  layer: number[];
  neuron: number[];
  cosPre: number[];
  cosDpo: number[];
  meanPre: number[];
  meanDpo: number[];
  projPre: number[];
  projDpo: number[];
  delta: number[];
  deltaAct: number[];
  /** v1 group per neuron ('' where Δm or cos is 0). */
  group: string[];
  /** v3 group per neuron ('' where Δ ≤ 0). */
  groupV3: string[];
}

export type ResultBundle =
  | {
      kind: 'compare';
      entry: ResultEntry;
      summary: CompareSummary;
      /** The request that made the run (null for bundles written before requests were recorded). */
      request: CompareRequest | null;
      neurons: NeuronTable;
    }
  | { kind: 'intervene'; entry: ResultEntry; summary: InterveneSummary; model: string };

export interface ResultPathRequest {
  path: string;
}

export interface ResultRenameRequest {
  path: string;
  name: string;
}

/** The bundle as one .zip file's bytes (base64), for a download in the browser or a save in the window. */
export interface ResultExport {
  fileName: string;
  base64: string;
  bytes: number;
}

/** One MLP neuron up close: what its value vector promotes and how it fires over a prompt in both models. */
export interface NeuronDetailRequest {
  base: string;
  /** A weights file loaded onto the base's architecture (as compare's baseWeights). */
  baseWeights?: string;
  /** A model reference, or a weights file on the base's architecture (as compare takes it). */
  dpo: string;
  layer: number;
  neuron: number;
  prompt: string;
  prependBos: boolean;
  /** How many promoted and suppressed tokens to list. */
  topTokens: number;
  device: DeviceChoice;
}

export interface TokenScore {
  token: string;
  /** value vector · unembedding column: how much one unit of activation raises this token's logit. */
  logit: number;
}

export interface NeuronModelDetail {
  promoted: TokenScore[];
  suppressed: TokenScore[];
  /** The neuron's post-GELU activation at each token of the prompt. */
  activations: number[];
  /** ‖v‖, the norm of the value vector. */
  valueNorm: number;
}

export interface NeuronDetail {
  layer: number;
  neuron: number;
  /** The prompt's tokens as text (shared by both models). */
  tokens: string[];
  base: NeuronModelDetail;
  dpo: NeuronModelDetail;
}
