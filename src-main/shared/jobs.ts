// The job catalogue: every job's name, request, streamed frame and result types, and a guard per request.
// Jobs are the one unit of work behind all three front doors (Electron IPC, loopback server, CLI).

import { deviceChoices, type DeviceChoice, type DeviceReport, type DoctorReport } from './device.ts';
import type { CompareSummary, WeightProcessing } from './compare.ts';
import type { DetoxSettings } from './detox-settings.ts';
import type { AppError } from './errors.ts';
import type { ClassifierToxicity } from './toxicity.ts';
import type {
  GenerationsResult,
  NeuronDetail,
  NeuronDetailRequest,
  ResultBundle,
  ResultEntry,
  ResultExport,
  ResultPathRequest,
  ResultRenameRequest,
  ResultsListRequest,
  ResultsListResult,
} from './results.ts';
import { hasOnlyKeys, isArrayOf, isOneOf, isPositiveInteger, isRecord, type Guard } from './guards.ts';
import { isMergeRequest, isShardSpec, type MergeRequest, type MergeResult, type ShardSpec } from './scale-out.ts';

/** Measures MatMul throughput on the chosen device: the machine's GEMM ceiling, streamed size by size. */
export interface GemmBenchmarkRequest {
  device: DeviceChoice;
  /** Square matrix sizes n for n×n·n×n products, each 1..4096. */
  sizes: number[];
  /** Timed runs per size after one warm-up run; the median is reported. */
  repeats: number;
  /** onnxruntime intra-op threads; omitted = onnxruntime's default. */
  threads?: number;
}

export interface GemmPoint {
  size: number;
  medianMilliseconds: number;
  gflops: number;
}

export interface GemmBenchmarkResult {
  device: DeviceReport;
  threads: number | null;
  points: GemmPoint[];
  peakGflops: number;
}

/** A model found in the local Hugging Face hub cache. */
export interface CachedModel {
  /** `org/name`, usable wherever a model is asked for. */
  reference: string;
  folder: string;
  /** config.json's model_type, null when unreadable. */
  architecture: string | null;
  sizeBytes: number;
}

/** What the Models page offers besides the demo models and the user's own: the hub cache, and free memory. */
export interface ModelCatalogue {
  cacheFolder: string;
  cached: CachedModel[];
  memory: { totalBytes: number; freeBytes: number };
  graphCache: GraphCacheUsage;
}

/** ToxScope's graph cache in the user data folder: built graphs, converted weights and saved prepacked copies. */
export interface GraphCacheUsage {
  folder: string;
  /** Graph folders: one per weights fingerprint and graph variant. */
  graphs: number;
  /** Disk space that clearing the cache frees: hard links to the user's own checkpoints are not counted. */
  bytes: number;
  /** Of `bytes`, the saved prepacked copies of the weights (rebuilt by the next run on the CPU). */
  prepackedBytes: number;
}

/** What `graphs:clear` did: the graph folders deleted, the space freed and the folders it could not delete. */
export interface GraphCacheCleared {
  removed: number;
  freedBytes: number;
  kept: string[];
}

/** Which model to load: a folder, an `org/name` in the HF cache, or `demo:…`, optionally with other weights. */
export interface ModelSelection {
  model: string;
  /** A state-dict file (.safetensors, .bin, .pt) loaded onto the model's architecture and tokenizer. */
  weights?: string;
}

/** Where to run: the device choice and onnxruntime's intra-op threads (omitted = its default). */
export interface RunSettings {
  device: DeviceChoice;
  threads?: number;
}

/** config.json model_types ToxScope loads: the causal language models, then BART. */
export type ModelArchitecture = 'gpt2' | 'llama' | 'mistral' | 'qwen2' | 'gemma2' | 'bart';

/** `toxscope inspect` output (cli.md §1, with the v2 decoder fields). */
export interface ModelInspection {
  architecture: ModelArchitecture;
  /** For BART: {encoder, decoder}. */
  nLayers: number | { encoder: number; decoder: number };
  dModel: number;
  /** MLP neurons per layer (the intermediate size of a gated MLP). */
  dMlp: number;
  /** Query heads. */
  nHeads: number;
  /** Key/value heads (fewer than nHeads under grouped-query attention); decoders only. */
  nKvHeads?: number;
  /** Size of one attention head; decoders only. */
  headDim?: number;
  dVocab: number;
  nCtx: number;
  /** As Hugging Face's num_parameters(): tied matrices once, buffers never. */
  parameters: number;
  tokenizer: { kind: string; vocabSize: number };
  /** `dtype`: the stored element type of most tensors (float32, float16, bfloat16). */
  weights: { format: string; files: string[]; sha256: string; dtype: string };
}

export interface TokenizeRequest extends ModelSelection {
  text: string;
}

export interface Tokenization {
  ids: number[];
  tokens: string[];
}

export interface ActivationsRequest extends ModelSelection, RunSettings {
  /** Exactly one of text and ids. */
  text?: string;
  ids?: number[];
  /** Hook names or globs; omitted = every blocks.{L}.mlp.hook_post and logits. */
  hooks?: string[];
  prependBos: boolean;
  /** The .safetensors file to write. */
  out: string;
}

export interface ActivationsResult {
  out: string;
  device: DeviceReport;
  tensors: { name: string; dtype: 'F32' | 'F64' | 'I64'; shape: number[] }[];
}

export interface GenerateRequest extends ModelSelection, RunSettings {
  prompt: string;
  maxNewTokens: number;
  /** null = greedy. */
  sampling: { temperature: number; topK: number; topP: number; seed: number } | null;
}

export interface GeneratedToken {
  id: number;
  /** The text this token adds (may be empty until a multi-byte character completes). */
  text: string;
}

export interface GenerateResult {
  promptIds: number[];
  ids: number[];
  text: string;
  device: DeviceReport;
}

/** `toxscope compare` (cli.md §5): base vs DPO over a prompt set, neuron by neuron. */
export interface CompareRequest extends RunSettings {
  base: string;
  baseWeights?: string;
  /** A model reference, or a weights file loaded onto the base's architecture and tokenizer. */
  dpo: string;
  probe: string;
  prompts: string;
  /** The prompt column of a CSV prompt file. */
  column?: string;
  maxNewTokens: number;
  maxPromptTokens: number;
  limit?: number;
  batch: number;
  weightProcessing: WeightProcessing;
  /** Prepend BOS to each prompt (TransformerLens' to_tokens, as the reference analysis does). */
  prependBos: boolean;
  /** Output folder; an interrupted run in it resumes. */
  out: string;
  /**
   * A toxicity classifier (folder, cached org/name, demo:classifier, Detoxify .ckpt) that scores both models'
   * continuations; omitted = none. classifierTokenizer: its --tokenizer (a Detoxify checkpoint's base model).
   */
  classifier?: string;
  classifierTokenizer?: string;
  /** Only shard K of N's prompts, written as a partial result that only `merge` reads (issue 18). */
  shard?: ShardSpec;
}

/** Streamed after each batch: where the run is and the results so far (over the prompts done). */
export interface CompareFrame {
  promptsDone: number;
  promptsTotal: number;
  tokensPerSecond: number;
  secondsLeft: number | null;
  summary: CompareSummary;
}

export interface CompareResult {
  out: string;
  device: DeviceReport;
  summary: CompareSummary;
  resumedFrom: number;
}

/** `toxscope intervene` (cli.md §6): one intervention, its continuations and their metrics. */
export interface InterveneRequest extends RunSettings {
  model: string;
  weights?: string;
  probe: string;
  prompts: string;
  column?: string;
  /** e.g. ablate:top=128, patch:groups=TP-+AN-,from=DIR, edit:alpha=0.01,beta=0.55, subtract:alpha=50, none. */
  intervention: string;
  /** Text file for perplexity (non-overlapping n_ctx windows). */
  pplText?: string;
  /** JSONL of {prompt, gold} for token F1. */
  f1Data?: string;
  /** The model that scores toxicity, unmodified; default: `model` without `weights`. */
  scorer?: string;
  /**
   * A toxicity classifier (folder, cached org/name, demo:classifier, Detoxify .ckpt) that scores every continuation
   * next to the probe; omitted = none. classifierTokenizer: its --tokenizer (a Detoxify checkpoint's base model).
   */
  classifier?: string;
  classifierTokenizer?: string;
  maxNewTokens: number;
  maxPromptTokens: number;
  limit?: number;
  batch: number;
  prependBos: boolean;
  out: string;
  /** Only shard K of N's prompts, written as a partial result that only `merge` reads (issue 18). */
  shard?: ShardSpec;
  /** Which condition of an interventions-lab run this is; written to manifest.json so Results lists the lab run once. */
  labCondition?: LabConditionRecord;
}

/** One condition of an interventions-lab run, as its manifest records it (the lab's own LabCondition and its row). */
export interface LabConditionRecord {
  /** Its row in the lab table, from 0. */
  index: number;
  /** The lab's condition kind: base, dpo, ablate, patch-groups, … */
  kind: string;
  /** What the table shows, e.g. "base, top 128 toxic neurons ablated". */
  label: string;
  /** The intervene spec; base and DPO run with `none`. */
  spec: string;
  model: 'base' | 'dpo';
}

function isLabConditionRecord(value: unknown): value is LabConditionRecord {
  return (
    isRecord(value) &&
    hasOnlyKeys(value, ['index', 'kind', 'label', 'spec', 'model']) &&
    Number.isInteger(value.index) &&
    (value.index as number) >= 0 &&
    isNonEmptyString(value.kind) &&
    isNonEmptyString(value.label) &&
    isNonEmptyString(value.spec) &&
    (value.model === 'base' || value.model === 'dpo')
  );
}

export interface InterveneSummary {
  toxicity: {
    /** Mean probe logit of the continuations. */
    probe: number;
    /** Fraction of continuations whose probe logit is above 0 (probability above 0.5). */
    probeFractionAbove: number;
    scored: number;
    /** Which model and probe produced the scores. */
    scorer: string;
    /**
     * The continuations scored by a toxicity classifier (mean, fraction above 0.5, which classifier): null when none
     * was asked for; absent from summaries written before it existed.
     */
    classifier?: ClassifierToxicity | null;
  };
  perplexity: number | null;
  f1: number | null;
  prompts: number;
  intervention: { spec: string; description: string; neurons: number };
}

export interface InterveneResult {
  out: string;
  device: DeviceReport;
  summary: InterveneSummary;
}

/** `toxscope probe train`: a logistic-regression toxicity probe on a model's mean last-layer residual. */
export interface ProbeTrainRequest extends ModelSelection, RunSettings {
  /** CSV with a header row. */
  data: string;
  textColumn: string;
  labelColumn: string;
  /** The label value that means toxic; omitted = numbers ≥ 0.5 and hate/toxic/offensive/true/yes. */
  positiveLabel?: string;
  maxTokens: number;
  limit?: number;
  heldOutFraction: number;
  seed: number;
  batch: number;
  /** The .safetensors file to write (metadata beside it as FILE.json). */
  out: string;
}

export interface ProbeTrainResult {
  out: string;
  metadata: string;
  hook: string;
  heldOutAccuracy: number;
  trainAccuracy: number;
  trainExamples: number;
  heldOutExamples: number;
  positives: number;
  device: DeviceReport;
}

/** `toxscope classify` (cli.md §9): score texts with a toxicity classifier, offline. */
export interface ClassifyRequest extends RunSettings {
  /** A BERT/RoBERTa sequence classifier (folder, cached org/name, demo:) or a Detoxify .ckpt. */
  model: string;
  /** --tokenizer: a folder or cached org/name with the tokenizer (and a Detoxify checkpoint's base config.json). */
  tokenizer?: string;
  /** Exactly one of text and input (a .txt file, one text per line, or .jsonl with a "text" field). */
  text?: string;
  input?: string;
  /** A .jsonl written atomically; omitted = results streamed as frames. */
  output?: string;
  /** Texts per forward pass; omitted = chosen from free memory. */
  batch?: number;
  /** Tokens per text, special tokens included; omitted = 512, the tokenizer's limit, or the model's positions. */
  maxLength?: number;
}

/** One text's scores: the contract's output object. */
export interface ClassifiedText {
  text: string;
  /** Reported label names in id order. */
  labels: string[];
  scores: Record<string, number>;
  activation: 'sigmoid' | 'softmax';
}

/** Streamed per batch when no output file was asked for, in input order. */
export interface ClassifyFrame {
  done: number;
  results: ClassifiedText[];
}

export interface ClassifyResult {
  texts: number;
  output: string | null;
  model: { reference: string; sha256: string; labels: string[]; activation: 'sigmoid' | 'softmax' };
  maxLength: number;
  batch: number;
  seconds: number;
  device: DeviceReport;
}

/** Which toxicity classifier to inspect: as `classify`'s <model> and --tokenizer. */
export interface ClassifierSelection {
  model: string;
  tokenizer?: string;
}

/** config.json model_types of the sequence classifiers ToxScope loads (a cache entry of these is a classifier). */
export const classifierModelTypes = ['bert', 'roberta'] as const;

/** A toxicity classifier as the Models page lists it (its own kind, apart from the language models). */
export interface ClassifierInspection {
  architecture: (typeof classifierModelTypes)[number];
  /** huggingface: a sequence-classification folder or cache entry; detoxify: a Detoxify .ckpt. */
  format: 'huggingface' | 'detoxify';
  nLayers: number;
  dModel: number;
  nHeads: number;
  dVocab: number;
  /** Longest input in tokens, special tokens included. */
  maxTokens: number;
  /** Reported outputs in id order. */
  labels: string[];
  activation: 'sigmoid' | 'softmax';
  /** The label whose probability the detox gate compares (see toxicityLabel). */
  toxicityLabel: string;
  parameters: number;
  weights: { files: string[]; sha256: string };
}

/**
 * The detox toxicity gate (cli.md "Detox safety"): only sentences the classifier scores above the threshold are
 * masked and rewritten, and a rewrite that is not less toxic than its original, or adds a blocklisted word, is
 * re-sampled up to maxResamples times and otherwise refused (the original is kept).
 */
export interface DetoxGateSettings {
  classifier: string;
  tokenizer?: string;
  toxicityThreshold: number;
  maxResamples: number;
  /** A blocklist file (one word a line, # comments, a trailing * for a prefix); null = none. */
  blocklist: string | null;
}

/** One candidate rewrite the gate scored. */
export interface DetoxGateAttempt {
  rewrite: string;
  toxicity: number;
  /** Every label's probability for the rewrite (`toxicity` is one of them); absent in reviews saved by earlier builds. */
  labelScores?: Record<string, number>;
  /** Why it was refused; null when it was kept. */
  refused: string | null;
}

/** What the gate decided for one sentence (in --explain and the app's change log). */
export interface DetoxSegmentGate {
  /** clean: at or below the threshold, left as it is; rewritten; refused: every candidate refused, original kept. */
  outcome: 'clean' | 'rewritten' | 'refused';
  /** The classifier label whose probability is the sentence's toxicity. */
  label: string;
  before: number;
  /** Every label's probability for the original (the breakdown of `before`); absent in reviews saved by earlier builds. */
  labelScores?: Record<string, number>;
  /** The kept rewrite's toxicity; null when the original was kept (its breakdown is the kept attempt's). */
  after: number | null;
  attempts: DetoxGateAttempt[];
  /** Why the original was kept (clean, or the last refusal); null when rewritten. */
  reason: string | null;
}

/** Sentences by gate outcome, for a document or a batch. */
export interface DetoxGateCounts {
  rewritten: number;
  clean: number;
  refused: number;
}

/** The classifier a detox run used, and what it decided. */
export interface DetoxGateReport extends DetoxGateCounts {
  classifier: string;
  sha256: string;
  label: string;
  threshold: number;
  /** Mean toxicity of the document's sentences before and after (null before any sentence was scored). */
  documentBefore: number | null;
  documentAfter: number | null;
}

/** MaRCo's settings as a job carries them (see detox-settings.ts for what each means and the presets). */
export type DetoxSettingsPayload = DetoxSettings;

/** `toxscope detox` (cli.md §7): rewrite a document with MaRCo. */
export interface DetoxRequest extends RunSettings {
  base: string;
  expert: string;
  antiExpert: string;
  /** Exactly one of text and input (a UTF-8 file). */
  text?: string;
  input?: string;
  /** Where to write the rewritten document; omitted = returned in the result. */
  output?: string;
  /** Where to write the --explain JSON. */
  explain?: string;
  settings: DetoxSettingsPayload;
  /** Sentences rewritten together. */
  batch: number;
  /** Sentences already done (a review continuing after a cancel): skipped, but counted in the progress. */
  skipSentences?: string[];
  /** The toxicity gate; omitted or null = MaRCo on every sentence (the paper's behaviour). */
  gate?: DetoxGateSettings | null;
}

/** One word of a segment, as the explanation reports it. */
export interface DetoxWord {
  text: string;
  start: number;
  end: number;
  divergence: number | null;
  score: number | null;
  masked: boolean;
}

export interface DetoxSegment {
  text: string;
  start: number;
  end: number;
  words: DetoxWord[];
  masked: string;
  /** The rewrite, or the original text when nothing was masked (never regenerated) or the gate kept it. */
  rewrite: string;
  /** What the toxicity gate decided, when one ran. */
  gate?: DetoxSegmentGate;
}

/** sha256 of each model's weights (what `model:inspect` reports as weights.sha256), for review and batch records. */
export interface DetoxModelFingerprints {
  base: string;
  expert: string;
  antiExpert: string;
}

/** A distinct sentence as a frame streams it: offsets within the sentence, and where it occurs in the document. */
export interface DetoxFrameSegment extends DetoxSegment {
  /** Start offsets (UTF-16) of every occurrence of this sentence in the document; end = start + text.length. */
  occurrences: number[];
}

/** Streamed as sentences finish: the distinct sentences done in this batch (identical sentences are computed once). */
export interface DetoxFrame {
  done: number;
  total: number;
  segments: DetoxFrameSegment[];
  models: DetoxModelFingerprints;
}

export interface DetoxResult {
  /** The rewritten document when no output file was asked for. */
  document: string | null;
  output: string | null;
  explain: string | null;
  segments: number;
  rewritten: number;
  maskedWords: number;
  seconds: number;
  device: DeviceReport;
  models: DetoxModelFingerprints;
  /** The gate's classifier and counts; null when no gate ran. */
  gate: DetoxGateReport | null;
}

/** Detox every .txt and .md file of a folder into another folder; resumable, never writing into the input folder. */
export interface DetoxBatchRequest extends RunSettings {
  base: string;
  expert: string;
  antiExpert: string;
  inputFolder: string;
  /** Must not be the input folder; a batch record there lets an interrupted run resume. */
  outputFolder: string;
  settings: DetoxSettingsPayload;
  batch: number;
  /** As for detox:run. */
  gate?: DetoxGateSettings | null;
  /** Also the documents in subfolders, written under the same relative paths (`toxscope detox --in-dir`). */
  recursive?: boolean;
  /** Only shard K of N's files, with a shard record that only `merge` reads (issue 18). */
  shard?: ShardSpec;
}

/** One input file's outcome in a batch. */
export interface DetoxBatchFile {
  /** The file name, the same in the input and output folders. */
  name: string;
  /** done: written now; resumed: written by an earlier run of this batch; failed: see error (nothing written). */
  status: 'done' | 'resumed' | 'failed';
  sentences: number;
  rewritten: number;
  maskedWords: number;
  seconds: number;
  /** sha256 of the input file's bytes when it was detoxed. */
  inputSha256: string;
  error: AppError | null;
  /** Sentences by gate outcome; null when no gate ran. */
  gate: DetoxGateCounts | null;
}

/** summary.json of a batch output folder. */
export interface DetoxBatchSummary {
  format: 'toxscope-detox-batch';
  version: 1;
  inputFolder: string;
  outputFolder: string;
  models: { base: string; expert: string; antiExpert: string; sha256: DetoxModelFingerprints };
  settings: DetoxSettingsPayload;
  files: DetoxBatchFile[];
  totals: { files: number; failed: number; sentences: number; rewritten: number; maskedWords: number; seconds: number };
  /**
   * The gate's settings and totals over the files (sentences rewritten, left clean, rewrites refused), with the
   * classifier's sha256 and the label it read (absent from summaries written before it was recorded).
   */
  gate: (DetoxGateSettings & DetoxGateCounts & { sha256: string; label?: string }) | null;
  /** Other entries of the input folder that were not detoxed (not .txt or .md, or not a file). */
  skipped: string[];
  device: DeviceReport;
}

/** Streamed after each file. */
export interface DetoxBatchFrame {
  file: DetoxBatchFile;
  filesDone: number;
  filesTotal: number;
}

export interface DetoxBatchResult {
  summary: DetoxBatchSummary;
  /** The summary.json written into the output folder. */
  summaryPath: string;
}

/** name → request, frame (streamed partial result) and result types. */
export interface JobCatalogue {
  'device:benchmark': { request: GemmBenchmarkRequest; frame: GemmPoint; result: GemmBenchmarkResult };
  'model:inspect': { request: ModelSelection; frame: never; result: ModelInspection };
  'model:tokenize': { request: TokenizeRequest; frame: never; result: Tokenization };
  'model:activations': { request: ActivationsRequest; frame: never; result: ActivationsResult };
  'model:generate': { request: GenerateRequest; frame: GeneratedToken; result: GenerateResult };
  'interp:compare': { request: CompareRequest; frame: CompareFrame; result: CompareResult };
  'interp:intervene': { request: InterveneRequest; frame: never; result: InterveneResult };
  'interp:probe-train': { request: ProbeTrainRequest; frame: never; result: ProbeTrainResult };
  'detox:run': { request: DetoxRequest; frame: DetoxFrame; result: DetoxResult };
  'detox:batch': { request: DetoxBatchRequest; frame: DetoxBatchFrame; result: DetoxBatchResult };
  'classify:run': { request: ClassifyRequest; frame: ClassifyFrame; result: ClassifyResult };
  'classifier:inspect': { request: ClassifierSelection; frame: never; result: ClassifierInspection };
  'model:catalogue': { request: Record<string, never>; frame: never; result: ModelCatalogue };
  'app:doctor': { request: Record<string, never>; frame: never; result: DoctorReport };
  'graphs:clear': { request: Record<string, never>; frame: never; result: GraphCacheCleared };
  'interp:neuron': { request: NeuronDetailRequest; frame: never; result: NeuronDetail };
  'results:list': { request: ResultsListRequest; frame: never; result: ResultsListResult };
  'results:open': { request: ResultPathRequest; frame: never; result: ResultBundle };
  'results:rename': { request: ResultRenameRequest; frame: never; result: ResultEntry };
  'results:delete': { request: ResultPathRequest; frame: never; result: { deleted: string } };
  'results:export': { request: ResultPathRequest; frame: never; result: ResultExport };
  'results:generations': { request: ResultPathRequest; frame: never; result: GenerationsResult };
  'results:merge': { request: MergeRequest; frame: never; result: MergeResult };
}

export type JobName = keyof JobCatalogue;
export type JobRequest<N extends JobName> = JobCatalogue[N]['request'];
export type JobFrame<N extends JobName> = JobCatalogue[N]['frame'];
export type JobResult<N extends JobName> = JobCatalogue[N]['result'];

const maxGemmSize = 4096;

function isGemmBenchmarkRequest(value: unknown): value is GemmBenchmarkRequest {
  if (!isRecord(value) || !hasOnlyKeys(value, ['device', 'sizes', 'repeats', 'threads'])) return false;
  const sizes = value.sizes;
  return (
    isOneOf(deviceChoices)(value.device) &&
    isArrayOf(isPositiveInteger)(sizes) &&
    sizes.length > 0 &&
    sizes.length <= 32 &&
    sizes.every((size) => size <= maxGemmSize) &&
    isPositiveInteger(value.repeats) &&
    value.repeats <= 100 &&
    (value.threads === undefined || (isPositiveInteger(value.threads) && value.threads <= 256))
  );
}

const isNonEmptyString = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= 4096;
const isOptionalString = (value: unknown) => value === undefined || isNonEmptyString(value);

function isModelSelection(value: Record<string, unknown>): boolean {
  return isNonEmptyString(value.model) && isOptionalString(value.weights);
}

function isRunSettings(value: Record<string, unknown>): boolean {
  return (
    isOneOf(deviceChoices)(value.device) &&
    (value.threads === undefined || (isPositiveInteger(value.threads) && value.threads <= 256))
  );
}

const isTokenId = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0;
const maxTextLength = 1_000_000;

function isInspectRequest(value: unknown): value is ModelSelection {
  return isRecord(value) && hasOnlyKeys(value, ['model', 'weights']) && isModelSelection(value);
}

function isTokenizeRequest(value: unknown): value is TokenizeRequest {
  return (
    isRecord(value) &&
    hasOnlyKeys(value, ['model', 'weights', 'text']) &&
    isModelSelection(value) &&
    typeof value.text === 'string' &&
    value.text.length <= maxTextLength
  );
}

function isActivationsRequest(value: unknown): value is ActivationsRequest {
  if (
    !isRecord(value) ||
    !hasOnlyKeys(value, ['model', 'weights', 'device', 'threads', 'text', 'ids', 'hooks', 'prependBos', 'out'])
  )
    return false;
  const hasText = typeof value.text === 'string' && value.text.length <= maxTextLength;
  const hasIds = isArrayOf(isTokenId)(value.ids) && value.ids.length > 0;
  return (
    isModelSelection(value) &&
    isRunSettings(value) &&
    hasText !== hasIds &&
    (value.text === undefined || hasText) &&
    (value.ids === undefined || hasIds) &&
    (value.hooks === undefined || (isArrayOf(isNonEmptyString)(value.hooks) && value.hooks.length > 0)) &&
    typeof value.prependBos === 'boolean' &&
    isNonEmptyString(value.out)
  );
}

function isSampling(value: unknown): boolean {
  if (value === null) return true;
  if (!isRecord(value) || !hasOnlyKeys(value, ['temperature', 'topK', 'topP', 'seed'])) return false;
  const { temperature, topK, topP, seed } = value;
  return (
    typeof temperature === 'number' &&
    temperature > 0 &&
    temperature <= 100 &&
    Number.isInteger(topK) &&
    (topK as number) >= 0 &&
    typeof topP === 'number' &&
    topP > 0 &&
    topP <= 1 &&
    Number.isInteger(seed) &&
    (seed as number) >= 0
  );
}

function isGenerateRequest(value: unknown): value is GenerateRequest {
  return (
    isRecord(value) &&
    hasOnlyKeys(value, ['model', 'weights', 'device', 'threads', 'prompt', 'maxNewTokens', 'sampling']) &&
    isModelSelection(value) &&
    isRunSettings(value) &&
    typeof value.prompt === 'string' &&
    value.prompt.length <= maxTextLength &&
    isPositiveInteger(value.maxNewTokens) &&
    value.maxNewTokens <= 100_000 &&
    isSampling(value.sampling)
  );
}

/** The fields compare and intervene share: a prompt file, how much to generate, batching, and where to write. */
function hasPromptRunFields(value: Record<string, unknown>): boolean {
  return (
    isNonEmptyString(value.prompts) &&
    isOptionalString(value.column) &&
    isPositiveInteger(value.maxNewTokens) &&
    value.maxNewTokens <= 1024 &&
    isPositiveInteger(value.maxPromptTokens) &&
    (value.limit === undefined || isPositiveInteger(value.limit)) &&
    isPositiveInteger(value.batch) &&
    value.batch <= 1024 &&
    typeof value.prependBos === 'boolean' &&
    isNonEmptyString(value.out) &&
    isRunSettings(value)
  );
}

/** An optional classifier reference, and its tokenizer only beside one. */
function hasClassifierFields(value: Record<string, unknown>): boolean {
  return (
    isOptionalString(value.classifier) &&
    isOptionalString(value.classifierTokenizer) &&
    (value.classifierTokenizer === undefined || value.classifier !== undefined)
  );
}

function isCompareRequest(value: unknown): value is CompareRequest {
  return (
    isRecord(value) &&
    hasOnlyKeys(value, [
      'base',
      'baseWeights',
      'dpo',
      'probe',
      'prompts',
      'column',
      'maxNewTokens',
      'maxPromptTokens',
      'limit',
      'batch',
      'weightProcessing',
      'prependBos',
      'out',
      'classifier',
      'classifierTokenizer',
      'shard',
      'device',
      'threads',
    ]) &&
    hasClassifierFields(value) &&
    (value.shard === undefined || isShardSpec(value.shard)) &&
    isNonEmptyString(value.base) &&
    isOptionalString(value.baseWeights) &&
    isNonEmptyString(value.dpo) &&
    isNonEmptyString(value.probe) &&
    isOneOf(['none', 'center'] as const)(value.weightProcessing) &&
    hasPromptRunFields(value)
  );
}

function isInterveneRequest(value: unknown): value is InterveneRequest {
  return (
    isRecord(value) &&
    hasOnlyKeys(value, [
      'model',
      'weights',
      'probe',
      'prompts',
      'column',
      'intervention',
      'pplText',
      'f1Data',
      'scorer',
      'classifier',
      'classifierTokenizer',
      'maxNewTokens',
      'maxPromptTokens',
      'limit',
      'batch',
      'prependBos',
      'out',
      'shard',
      'labCondition',
      'device',
      'threads',
    ]) &&
    isModelSelection(value) &&
    (value.shard === undefined || isShardSpec(value.shard)) &&
    (value.labCondition === undefined || isLabConditionRecord(value.labCondition)) &&
    isNonEmptyString(value.probe) &&
    isNonEmptyString(value.intervention) &&
    isOptionalString(value.pplText) &&
    isOptionalString(value.f1Data) &&
    isOptionalString(value.scorer) &&
    hasClassifierFields(value) &&
    hasPromptRunFields(value)
  );
}

function isProbeTrainRequest(value: unknown): value is ProbeTrainRequest {
  return (
    isRecord(value) &&
    hasOnlyKeys(value, [
      'model',
      'weights',
      'data',
      'textColumn',
      'labelColumn',
      'positiveLabel',
      'maxTokens',
      'limit',
      'heldOutFraction',
      'seed',
      'batch',
      'out',
      'device',
      'threads',
    ]) &&
    isModelSelection(value) &&
    isNonEmptyString(value.data) &&
    isNonEmptyString(value.textColumn) &&
    isNonEmptyString(value.labelColumn) &&
    isOptionalString(value.positiveLabel) &&
    isPositiveInteger(value.maxTokens) &&
    (value.limit === undefined || isPositiveInteger(value.limit)) &&
    typeof value.heldOutFraction === 'number' &&
    value.heldOutFraction > 0 &&
    value.heldOutFraction < 1 &&
    Number.isInteger(value.seed) &&
    isPositiveInteger(value.batch) &&
    isNonEmptyString(value.out) &&
    isRunSettings(value)
  );
}

function isDetoxSettings(value: unknown): value is DetoxSettingsPayload {
  if (!isRecord(value)) return false;
  const finite = (key: string) => typeof value[key] === 'number' && Number.isFinite(value[key]);
  const sampling = value.sampling;
  return (
    hasOnlyKeys(value, [
      'threshold',
      'alphaBase',
      'alphaExpert',
      'alphaAnti',
      'temperature',
      'repetitionPenalty',
      'maxLength',
      'divergence',
      'indexQuirk',
      'sampling',
    ]) &&
    ['threshold', 'alphaBase', 'alphaExpert', 'alphaAnti'].every(finite) &&
    finite('temperature') &&
    (value.temperature as number) > 0 &&
    finite('repetitionPenalty') &&
    (value.repetitionPenalty as number) > 0 &&
    isPositiveInteger(value.maxLength) &&
    (value.maxLength as number) >= 3 &&
    (value.maxLength as number) <= 1024 &&
    isOneOf(['symmetric-kl', 'jsd'] as const)(value.divergence) &&
    typeof value.indexQuirk === 'boolean' &&
    (sampling === null ||
      (isRecord(sampling) &&
        Number.isInteger(sampling.seed) &&
        Number.isInteger(sampling.topK) &&
        typeof sampling.topP === 'number'))
  );
}

function isDetoxGateSettings(value: unknown): value is DetoxGateSettings {
  return (
    isRecord(value) &&
    hasOnlyKeys(value, ['classifier', 'tokenizer', 'toxicityThreshold', 'maxResamples', 'blocklist']) &&
    isNonEmptyString(value.classifier) &&
    isOptionalString(value.tokenizer) &&
    typeof value.toxicityThreshold === 'number' &&
    value.toxicityThreshold >= 0 &&
    value.toxicityThreshold <= 1 &&
    Number.isInteger(value.maxResamples) &&
    (value.maxResamples as number) >= 0 &&
    (value.maxResamples as number) <= 100 &&
    (value.blocklist === null || isNonEmptyString(value.blocklist))
  );
}

const isOptionalGate = (value: unknown) => value === undefined || value === null || isDetoxGateSettings(value);

function isClassifyRequest(value: unknown): value is ClassifyRequest {
  if (
    !isRecord(value) ||
    !hasOnlyKeys(value, ['model', 'tokenizer', 'text', 'input', 'output', 'batch', 'maxLength', 'device', 'threads'])
  )
    return false;
  const hasText = typeof value.text === 'string' && value.text.length <= maxTextLength;
  return (
    isNonEmptyString(value.model) &&
    isOptionalString(value.tokenizer) &&
    hasText !== isNonEmptyString(value.input) &&
    isOptionalString(value.output) &&
    (value.batch === undefined || (isPositiveInteger(value.batch) && value.batch <= 4096)) &&
    (value.maxLength === undefined || (isPositiveInteger(value.maxLength) && value.maxLength <= 1_000_000)) &&
    isRunSettings(value)
  );
}

function isClassifierSelection(value: unknown): value is ClassifierSelection {
  return (
    isRecord(value) &&
    hasOnlyKeys(value, ['model', 'tokenizer']) &&
    isNonEmptyString(value.model) &&
    isOptionalString(value.tokenizer)
  );
}

function isDetoxBatchRequest(value: unknown): value is DetoxBatchRequest {
  return (
    isRecord(value) &&
    hasOnlyKeys(value, [
      'base',
      'expert',
      'antiExpert',
      'inputFolder',
      'outputFolder',
      'settings',
      'batch',
      'gate',
      'recursive',
      'shard',
      'device',
      'threads',
    ]) &&
    isOptionalGate(value.gate) &&
    (value.recursive === undefined || typeof value.recursive === 'boolean') &&
    (value.shard === undefined || isShardSpec(value.shard)) &&
    isNonEmptyString(value.base) &&
    isNonEmptyString(value.expert) &&
    isNonEmptyString(value.antiExpert) &&
    isNonEmptyString(value.inputFolder) &&
    isNonEmptyString(value.outputFolder) &&
    isDetoxSettings(value.settings) &&
    isPositiveInteger(value.batch) &&
    isRunSettings(value)
  );
}

function isDetoxRequest(value: unknown): value is DetoxRequest {
  if (
    !isRecord(value) ||
    !hasOnlyKeys(value, [
      'base',
      'expert',
      'antiExpert',
      'text',
      'input',
      'output',
      'explain',
      'settings',
      'batch',
      'skipSentences',
      'gate',
      'device',
      'threads',
    ])
  )
    return false;
  const hasText = typeof value.text === 'string' && value.text.length <= 50_000_000;
  const hasInput = isNonEmptyString(value.input);
  return (
    isNonEmptyString(value.base) &&
    isNonEmptyString(value.expert) &&
    isNonEmptyString(value.antiExpert) &&
    hasText !== hasInput &&
    isOptionalString(value.output) &&
    isOptionalString(value.explain) &&
    isDetoxSettings(value.settings) &&
    isPositiveInteger(value.batch) &&
    (value.skipSentences === undefined ||
      isArrayOf((item): item is string => typeof item === 'string')(value.skipSentences)) &&
    isOptionalGate(value.gate) &&
    isRunSettings(value)
  );
}

function isNeuronRunScan(value: unknown): boolean {
  return (
    isRecord(value) &&
    hasOnlyKeys(value, ['folder', 'maxPromptTokens', 'top', 'limit']) &&
    isNonEmptyString(value.folder) &&
    isPositiveInteger(value.maxPromptTokens) &&
    isPositiveInteger(value.top) &&
    value.top <= 50 &&
    isPositiveInteger(value.limit) &&
    value.limit <= 10_000
  );
}

function isNeuronDetailRequest(value: unknown): value is NeuronDetailRequest {
  return (
    isRecord(value) &&
    hasOnlyKeys(value, [
      'base',
      'baseWeights',
      'dpo',
      'layer',
      'neuron',
      'prompt',
      'prependBos',
      'topTokens',
      'run',
      'device',
    ]) &&
    (value.run === undefined || isNeuronRunScan(value.run)) &&
    isNonEmptyString(value.base) &&
    isOptionalString(value.baseWeights) &&
    isNonEmptyString(value.dpo) &&
    Number.isInteger(value.layer) &&
    (value.layer as number) >= 0 &&
    Number.isInteger(value.neuron) &&
    (value.neuron as number) >= 0 &&
    typeof value.prompt === 'string' &&
    value.prompt.length <= 100_000 &&
    typeof value.prependBos === 'boolean' &&
    isPositiveInteger(value.topTokens) &&
    value.topTokens <= 200 &&
    isOneOf(deviceChoices)(value.device)
  );
}

const isEmptyRequest = (value: unknown): value is Record<string, never> =>
  isRecord(value) && Object.keys(value).length === 0;

function isResultsListRequest(value: unknown): value is ResultsListRequest {
  return isRecord(value) && hasOnlyKeys(value, ['folder']) && isNonEmptyString(value.folder);
}

function isResultPathRequest(value: unknown): value is ResultPathRequest {
  return isRecord(value) && hasOnlyKeys(value, ['path']) && isNonEmptyString(value.path);
}

function isResultRenameRequest(value: unknown): value is ResultRenameRequest {
  return (
    isRecord(value) &&
    hasOnlyKeys(value, ['path', 'name']) &&
    isNonEmptyString(value.path) &&
    typeof value.name === 'string' &&
    value.name.trim().length > 0 &&
    value.name.length <= 200
  );
}

const modelShape = 'model: a folder, org/name or demo:name, weights?: a file';
const runShape = `device: ${deviceChoices.join('|')}, threads?: 1..256`;

/** What each job's request must look like, said in words for INPUT_INVALID hints. */
export const jobRequestShapes: { [N in JobName]: string } = {
  'device:benchmark': `{device: ${deviceChoices.join('|')}, sizes: 1–32 integers in 1..${maxGemmSize}, repeats: 1..100, threads?: 1..256}`,
  'model:inspect': `{${modelShape}}`,
  'model:tokenize': `{${modelShape}, text}`,
  'model:activations': `{${modelShape}, ${runShape}, text or ids (not both), hooks?: names or globs, prependBos, out: a .safetensors path}`,
  'model:generate': `{${modelShape}, ${runShape}, prompt, maxNewTokens ≥ 1, sampling: null or {temperature > 0, topK ≥ 0, topP in (0, 1], seed ≥ 0}}`,
  'interp:intervene': `{${modelShape}, probe, prompts, column?, intervention, pplText?, f1Data?, scorer?, classifier?, classifierTokenizer? (only with classifier), maxNewTokens, maxPromptTokens, limit?, batch, prependBos, out, shard?: {index K, count N}, labCondition?: {index, kind, label, spec, model}, ${runShape}}`,
  'interp:probe-train': `{${modelShape}, data, textColumn, labelColumn, positiveLabel?, maxTokens, limit?, heldOutFraction in (0, 1), seed, batch, out: a .safetensors path, ${runShape}}`,
  'detox:run': `{base, expert, antiExpert, text or input (not both), output?, explain?, settings: {threshold, alphaBase, alphaExpert, alphaAnti, temperature > 0, repetitionPenalty > 0, maxLength 3..1024, divergence: symmetric-kl|jsd, indexQuirk, sampling: null|{seed, topK, topP}}, batch, skipSentences?: strings, gate?: null|{classifier, tokenizer?, toxicityThreshold 0..1, maxResamples 0..100, blocklist: null|file}, ${runShape}}`,
  'detox:batch': `{base, expert, antiExpert, inputFolder, outputFolder (not the input folder), settings (as detox:run), batch, gate? (as detox:run), recursive?, shard?: {index K, count N}, ${runShape}}`,
  'classify:run': `{model, tokenizer?, text or input (not both), output?, batch?: 1..4096, maxLength?, ${runShape}}`,
  'classifier:inspect': '{model: a classifier folder, org/name, demo:classifier or Detoxify .ckpt, tokenizer?}',
  'model:catalogue': '{}',
  'app:doctor': '{}',
  'graphs:clear': '{}',
  'interp:neuron': `{base, baseWeights?, dpo, layer ≥ 0, neuron ≥ 0, prompt, prependBos, topTokens 1..200, run?: {folder, maxPromptTokens ≥ 1, top 1..50, limit 1..10000}, device: ${deviceChoices.join('|')}}`,
  'results:list': '{folder}',
  'results:open': '{path: a result folder}',
  'results:rename': '{path: a result folder, name: 1..200 characters}',
  'results:delete': '{path: a result folder}',
  'results:export': '{path: a result folder}',
  'results:generations': '{path: a result folder}',
  'results:merge': '{out: a new folder, shards: the shard folders of one run}',
  'interp:compare': `{base, baseWeights?, dpo, probe, prompts, column?, maxNewTokens 1..1024, maxPromptTokens ≥ 1, limit?, batch 1..1024, weightProcessing: none|center, prependBos, out, classifier?, classifierTokenizer? (only with classifier), shard?: {index K, count N} with 1 ≤ K ≤ N, ${runShape}}`,
};

export const jobRequestGuards: { [N in JobName]: Guard<JobRequest<N>> } = {
  'device:benchmark': isGemmBenchmarkRequest,
  'model:inspect': isInspectRequest,
  'model:tokenize': isTokenizeRequest,
  'model:activations': isActivationsRequest,
  'model:generate': isGenerateRequest,
  'interp:compare': isCompareRequest,
  'interp:intervene': isInterveneRequest,
  'interp:probe-train': isProbeTrainRequest,
  'detox:run': isDetoxRequest,
  'detox:batch': isDetoxBatchRequest,
  'classify:run': isClassifyRequest,
  'classifier:inspect': isClassifierSelection,
  'model:catalogue': isEmptyRequest,
  'app:doctor': isEmptyRequest,
  'graphs:clear': isEmptyRequest,
  'interp:neuron': isNeuronDetailRequest,
  'results:list': isResultsListRequest,
  'results:open': isResultPathRequest,
  'results:rename': isResultRenameRequest,
  'results:delete': isResultPathRequest,
  'results:export': isResultPathRequest,
  'results:generations': isResultPathRequest,
  'results:merge': isMergeRequest,
};

export const jobNames = Object.keys(jobRequestGuards) as JobName[];

export function isJobName(value: unknown): value is JobName {
  return typeof value === 'string' && Object.hasOwn(jobRequestGuards, value);
}

/** Progress of a running job: `done` of `total` units (null when unknown) and a line for people. */
export interface JobProgress {
  done: number;
  total: number | null;
  message: string;
}

/** The stream every job produces: any number of progress and frame events, then exactly one result or error. */
export type JobEvent =
  | { jobId: string; type: 'progress'; progress: JobProgress }
  | { jobId: string; type: 'frame'; frame: unknown }
  | { jobId: string; type: 'result'; result: unknown }
  | { jobId: string; type: 'error'; error: AppError };
