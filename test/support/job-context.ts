// A JobContext for calling jobs directly in tests: records progress and frames, and can cancel.

import type { JobContext } from '../../src-main/core/jobs/job.ts';
import type { JobProgress } from '../../src-main/shared/index.ts';
import { workerDir } from './built-app.ts';

export function testContext<Frame>(onFrame?: (frame: Frame, controller: AbortController) => void) {
  const controller = new AbortController();
  const frames: Frame[] = [];
  const progress: JobProgress[] = [];
  const context: JobContext<Frame> = {
    signal: controller.signal,
    progress: (entry) => progress.push(entry),
    frame: (frame) => {
      frames.push(frame);
      onFrame?.(frame, controller);
    },
    workerDir,
  };
  return { context, frames, progress, controller };
}
