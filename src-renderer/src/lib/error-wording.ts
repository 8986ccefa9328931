// How the app words an AppError. The engine phrases hints for the command line ("Pass --prompts FILE"); where it also
// wrote one for the app (`appHint`) the app shows that, else the command-line options are named by the form labels
// that set them. `field` says which input an error is about, so a form can mark it.

import type { AppError } from '../../../src-main/shared/index.ts';

/** Request fields by the labels the app's forms give them. */
const fieldLabels: Record<string, string> = {
  base: 'Base model',
  dpo: 'DPO model or weights file',
  model: 'Model',
  weights: 'Weights file',
  probe: 'Probe',
  prompts: 'Prompts file',
  limit: 'Prompts to use',
  maxNewTokens: 'New tokens per prompt',
  batch: 'Prompts per batch',
  device: 'Device (Settings)',
  pplText: 'Perplexity text file',
  f1Data: 'F1 data',
  scorer: 'Scorer',
  classifier: 'Toxicity classifier',
  blocklist: 'Blocklist file',
  text: 'Text to detoxify',
  input: 'Input file',
  inputFolder: 'Input folder',
  outputFolder: 'Output folder',
  maxLength: 'Max length',
};

/** Command-line options (with the placeholder that may follow them) by the request field they set. */
const optionFields: Record<string, string> = {
  '--base': 'base',
  '--dpo': 'dpo',
  '--model': 'model',
  '--weights': 'weights',
  '--probe': 'probe',
  '--prompts': 'prompts',
  '--limit': 'limit',
  '--max-new-tokens': 'maxNewTokens',
  '--batch': 'batch',
  '--device': 'device',
  '--ppl-text': 'pplText',
  '--f1-data': 'f1Data',
  '--scorer': 'scorer',
  '--classifier': 'classifier',
  '--blocklist': 'blocklist',
  '--text': 'text',
  '--in': 'input',
  '--in-dir': 'inputFolder',
  '--out-dir': 'outputFolder',
  '--max-length': 'maxLength',
};

/** The form label of a request field, or null for a field the app does not show. */
export function fieldLabel(field: string | undefined): string | null {
  return field !== undefined ? (fieldLabels[field] ?? null) : null;
}

/** Options with a value that the app sets another way. */
const optionValues: Record<string, string> = {
  '--blocklist none': 'an empty “Blocklist file”',
  '--classifier none': 'an empty “Toxicity classifier”',
  '--device cpu': 'CPU in Settings',
};

/** Replaces each known `--option [PLACEHOLDER]` in a text with its form label in quotes. */
export function withFormLabels(text: string): string {
  return text.replace(/(?<![\w-])(--[a-z][a-z0-9-]*)( [A-Z]+\b| [a-z]+\b)?/g, (match, option: string, value = '') => {
    const phrase = optionValues[`${option}${value as string}`];
    if (phrase) return phrase;
    const label = fieldLabel(optionFields[option]);
    if (!label) return match;
    // An upper-case placeholder (FILE, NAME) is the form field itself; a lower-case word is the next word of the text.
    return /^ [A-Z]+$/.test(value as string) ? `“${label}”` : `“${label}”${value as string}`;
  });
}

/** What to do next, in the app's words. */
export function appHintOf(error: AppError): string {
  return error.appHint ?? withFormLabels(error.hint);
}

/** The error's message, with command-line options named by their form labels. */
export function appMessageOf(error: AppError): string {
  return withFormLabels(error.message);
}
