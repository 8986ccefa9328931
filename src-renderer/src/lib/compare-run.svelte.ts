// The Compare page's latest run, kept outside the page so a run started there is still shown (and can be resumed)
// after the user looks at other pages while it streams.

import type { CompareRequest } from '../../../src-main/shared/index.ts';
import type { JobState } from './jobs.svelte.ts';

class CompareRun {
  job = $state<JobState | null>(null);
  /** The request of the latest run: a cancelled or failed run resumes with it, in the same folder. */
  request = $state.raw<CompareRequest | null>(null);
}

export const compareRun = new CompareRun();
