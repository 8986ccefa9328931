// Result bundles as the history and the neuron explorer see them: the folders compare and intervene write, listed,
// opened (summary and the per-neuron table), renamed, deleted and exported; and one neuron's close-up.

import type { CompareSummary } from './compare.ts';
import type { DeviceChoice } from './device.ts';
import type { CompareRequest, DetoxBatchSummary, InterveneSummary, LabConditionRecord } from './jobs.ts';
import type { ShardGroup } from './scale-out.ts';

/** lab: one run of the interventions lab, a folder of intervene runs (one per condition); detox: a batch's output. */
export type ResultKind = 'compare' | 'intervene' | 'lab' | 'detox';

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
  /** Shard folders of sharded runs (`--shard K/N`) in the folder, grouped by run, which can be merged. */
  shardGroups: ShardGroup[];
}

/** neurons.csv by columns (row i of every array is one neuron), the compact form for 98,304 rows. */
export interface NeuronTable {
  count: number;
  layer: number[];
  neuron: number[];
  cosPre: number[];
  cosDpo: number[];
  /** The value vector's projection on the probe direction (cos · ‖v‖), base and DPO. */
  sPre: number[];
  sDpo: number[];
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
  | { kind: 'intervene'; entry: ResultEntry; summary: InterveneSummary; model: string }
  | { kind: 'lab'; entry: ResultEntry; conditions: LabRunCondition[] }
  | { kind: 'detox'; entry: ResultEntry; summary: DetoxBatchSummary };

/** One finished condition of a lab run: what the lab table shows for it. */
export interface LabRunCondition {
  condition: LabConditionRecord;
  summary: InterveneSummary;
  /** Its intervene run's folder. */
  out: string;
  /** The model it ran (manifest.json's model reference). */
  model: string;
}

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
  /** A finished compare run whose prompts and continuations to scan for the neuron's top-activating examples. */
  run?: NeuronRunScan;
  device: DeviceChoice;
}

/** Which run to scan, cut as the run cut its prompts. */
export interface NeuronRunScan {
  /** The compare run's folder (its generations.jsonl). */
  folder: string;
  /** The run's maxPromptTokens, so prompts are cut where the run cut them. */
  maxPromptTokens: number;
  /** How many examples to return per model (the most active first). */
  top: number;
  /** Scan at most this many prompts (the first ones of the file). */
  limit: number;
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
  /** The run's top-activating examples, when the request named a run. */
  examples?: NeuronRunExamples;
}

/**
 * One prompt of the run with one model's continuation, and the neuron's activation at each of its tokens in both
 * models (the same tokens, so the two strips and their difference line up).
 */
export interface NeuronExample {
  /** The prompt's line in generations.jsonl (0-based). */
  index: number;
  /** The tokens as text: the prompt's (BOS included), then the continuation's (re-tokenized from its text). */
  tokens: string[];
  /** How many of `tokens` are the prompt's. */
  promptTokens: number;
  /** [pos] the base model's activation. */
  base: number[];
  /** [pos] the DPO model's activation. */
  dpo: number[];
  /** The ranking key: the largest activation of the model whose continuation this is. */
  max: number;
}

export interface NeuronRunExamples {
  /** How many prompts were scanned. */
  scanned: number;
  /** Prompts with the base model's continuation, by the base model's largest activation on them. */
  base: NeuronExample[];
  /** Prompts with the DPO model's continuation, by the DPO model's largest activation on them. */
  dpo: NeuronExample[];
}

/** One prompt of a run's generations.jsonl, as the continuations view lists it. */
export type GenerationRow =
  | {
      kind: 'compare';
      prompt: string;
      base: string;
      dpo: string;
      /** The classifier's toxicity of each continuation (null when the run had no classifier). */
      baseToxicity: number | null;
      dpoToxicity: number | null;
    }
  | {
      kind: 'intervene';
      prompt: string;
      continuation: string;
      /** The probe's toxicity score of the continuation. */
      probeToxicity: number | null;
      classifierToxicity: number | null;
    };

export interface GenerationsResult {
  path: string;
  rows: GenerationRow[];
}
