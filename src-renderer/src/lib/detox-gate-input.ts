// The detox toxicity gate as the app's forms edit it (cli.md "Detox safety"): on by default with the default
// classifier, or explicitly off (MaRCo on every sentence, the paper's behaviour); what is wrong with a value; and the
// `gate` a detox request carries.

import { detoxGateDefaults, type DetoxGateSettings } from '../../../src-main/shared/index.ts';

/** Which blocklist refuses rewrites: the one shipped with the app, a file of the user's, or none. */
export type BlocklistChoice = 'shipped' | 'file' | 'none';

/** The gate fields of a detox form. */
export interface GateInput {
  /** false = off: every sentence is masked and rewritten, no classifier scores anything. */
  enabled: boolean;
  classifier: string;
  /** Only sentences the classifier scores above this are rewritten (0..1). */
  toxicityThreshold: number;
  /** Re-samples of a refused rewrite before the original is kept (0..100). */
  maxResamples: number;
  blocklist: BlocklistChoice;
  /** The user's blocklist file, used when blocklist is 'file'. */
  blocklistFile: string;
}

/** The gate as the app starts it: on, with the given classifier and the CLI's defaults. */
export function defaultGateInput(classifier: string): GateInput {
  return {
    enabled: true,
    classifier,
    toxicityThreshold: detoxGateDefaults.toxicityThreshold,
    maxResamples: detoxGateDefaults.maxResamples,
    blocklist: 'shipped',
    blocklistFile: '',
  };
}

export type GateField = 'classifier' | 'toxicityThreshold' | 'maxResamples' | 'blocklistFile';

/** What is wrong with one field of an enabled gate, or null (an off gate has nothing wrong). */
export function gateProblem(input: GateInput, field: GateField): string | null {
  if (!input.enabled) return null;
  switch (field) {
    case 'classifier':
      return input.classifier.trim() === '' ? 'Name a classifier, or turn the gate off.' : null;
    case 'toxicityThreshold': {
      const value = input.toxicityThreshold;
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'Enter a number.';
      return value < 0 || value > 1 ? 'Between 0 and 1.' : null;
    }
    case 'maxResamples': {
      const value = input.maxResamples;
      return Number.isInteger(value) && value >= 0 && value <= 100 ? null : 'A whole number, 0 to 100.';
    }
    case 'blocklistFile':
      return input.blocklist === 'file' && input.blocklistFile.trim() === '' ? 'Enter the path of a file.' : null;
  }
}

const gateFields: GateField[] = ['classifier', 'toxicityThreshold', 'maxResamples', 'blocklistFile'];

export function gateValid(input: GateInput): boolean {
  return gateFields.every((field) => gateProblem(input, field) === null);
}

/** The request's `gate`: null when off; `shippedBlocklist` is the app's blocklist path (AppInfo.defaultBlocklist). */
export function gateRequest(input: GateInput, shippedBlocklist: string): DetoxGateSettings | null {
  if (!input.enabled) return null;
  const blocklist =
    input.blocklist === 'none' ? null : input.blocklist === 'file' ? input.blocklistFile.trim() : shippedBlocklist;
  return {
    classifier: input.classifier.trim(),
    toxicityThreshold: input.toxicityThreshold,
    maxResamples: input.maxResamples,
    blocklist,
  };
}
