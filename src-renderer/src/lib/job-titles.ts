// What the job panel calls a job: a title in people's words from the job and its request ("Compare demo:gpt2-base vs
// demo:gpt2-dpo", the intervention's condition, the document's file), and the unit its progress counts.

import type { JobName, JobRequest } from '../../../src-main/shared/index.ts';

/** The last part of a path, or the text as it is when it has no folder. */
const fileName = (path: string) => path.split(/[\\/]/).filter(Boolean).at(-1) ?? path;

/** Conditions as the Interventions page names them; the spec string as written when it matches none. */
function conditionTitle(intervention: string): string {
  const [kind, settings = ''] = intervention.split(':', 2) as [string, string?];
  const titles: Record<string, string> = {
    none: 'no intervention',
    ablate: 'ablation',
    patch: 'patching',
    edit: 'activation editing',
    subtract: 'subtracting the probe',
    'scale-keys': 'key scaling',
  };
  const title = titles[kind] ?? kind;
  // A folder or file in the settings (from=DIR, csv=FILE) by its last part: the panel is narrow.
  const shown = settings
    .split(',')
    .map((setting) => setting.replace(/=(.*[\\/].*)$/, (_, path: string) => `=…/${fileName(path)}`))
    .join(', ');
  return settings ? `${title} (${shown})` : title;
}

export function jobTitle<N extends JobName>(job: N, request: JobRequest<N>): string {
  // One switch over the catalogue: each case reads only its own request's fields.
  const r = request as unknown as Record<string, unknown>;
  const text = (key: string) => (typeof r[key] === 'string' ? (r[key] as string) : '');
  switch (job) {
    case 'interp:compare':
      return `Compare ${text('base')} vs ${fileName(text('dpo'))}`;
    case 'interp:intervene':
      return `Intervene on ${text('model')}: ${conditionTitle(text('intervention'))}`;
    case 'interp:probe-train':
      return `Train a probe on ${text('model')}`;
    case 'interp:neuron':
      return `Neuron L${String(r.layer)} N${String(r.neuron)} close-up`;
    case 'detox:run':
      return `Detox ${text('input') ? fileName(text('input')) : 'pasted text'}`;
    case 'detox:batch':
      return `Detox the files in ${fileName(text('inputFolder'))}`;
    case 'classify:run':
      return `Classify with ${text('model')}`;
    case 'model:inspect':
      return `Inspect ${text('model')}`;
    case 'classifier:inspect':
      return `Inspect classifier ${text('model')}`;
    case 'model:generate':
      return `Generate with ${text('model')}`;
    case 'model:activations':
      return `Activations of ${text('model')}`;
    case 'model:tokenize':
      return `Tokenize with ${text('model')}`;
    case 'device:benchmark':
      return 'Device check (MatMul speed)';
    case 'graphs:clear':
      return 'Clear the graph cache';
    case 'results:merge':
      return `Merge ${Array.isArray(r.shards) ? r.shards.length : ''} shards into ${fileName(text('out'))}`;
    default:
      return job;
  }
}

/** What one step of a job's progress is, plural ("Cancelled after 3 of 8 sentences"). */
export function progressUnit(job: JobName): string {
  if (job === 'detox:run') return 'sentences';
  if (job === 'detox:batch') return 'files';
  if (job === 'interp:compare' || job === 'interp:intervene') return 'prompts';
  if (job === 'classify:run') return 'texts';
  if (job === 'device:benchmark') return 'sizes';
  return 'steps';
}
