// The addresses people link: a run (`#/neurons/<run>`, `#/compare/<run>`) and a neuron of it
// (`#/neurons/<run>/<layer>/<neuron>`), with the explorer's filter as options (`?layer=3&group=TP-`); parsed and
// written here so every link and every reload agree. `<run>` is the run's folder name inside the results folder.

/** What a hash asks for; fields the hash does not give are null. */
export interface AppRoute {
  /** The first path segment ('neurons', 'compare', ...); '' for an empty hash. */
  page: string;
  /** The run's folder name, decoded. */
  run: string | null;
  layer: number | null;
  neuron: number | null;
  /** What follows `?`, as key → value (a bare key maps to ''). */
  options: Record<string, string>;
}

const wholeNumber = (text: string | undefined): number | null =>
  text !== undefined && /^\d{1,7}$/.test(text) ? Number(text) : null;

/** Reads `#/page/run/layer/neuron?options`; a layer or neuron that is not a whole number is left out (null). */
export function parseRoute(hash: string): AppRoute {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?', 2);
  const segments = path.split('/').filter((segment) => segment !== '');
  const decode = (text: string | undefined) => {
    if (text === undefined) return null;
    try {
      return decodeURIComponent(text);
    } catch {
      return null; // a malformed %-escape reads as no run rather than a crash
    }
  };
  const options: Record<string, string> = {};
  for (const part of query.split('&').filter(Boolean)) {
    const [key = '', value = ''] = part.split('=', 2);
    options[decode(key) ?? key] = decode(value) ?? value;
  }
  const layer = wholeNumber(segments[2]);
  const neuron = layer === null ? null : wholeNumber(segments[3]);
  return { page: segments[0] ?? '', run: decode(segments[1]), layer, neuron, options };
}

/** The last part of a run's folder path: what its addresses name it by. */
export function runName(path: string): string {
  return path.split(/[\\/]/).filter(Boolean).at(-1) ?? path;
}

/** `#/neurons/<run>` or, with a neuron, `#/neurons/<run>/<layer>/<neuron>`; options are appended in the given order. */
export function neuronsHref(
  run: string,
  neuron?: { layer: number; neuron: number } | null,
  options: Record<string, string | number> = {},
): string {
  const base = `#/neurons/${encodeURIComponent(run)}`;
  const path = neuron ? `${base}/${neuron.layer}/${neuron.neuron}` : base;
  const query = Object.entries(options)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`)
    .join('&');
  return query ? `${path}?${query}` : path;
}

/** `#/compare/<run>`: the Compare page showing that run. */
export function compareHref(run: string): string {
  return `#/compare/${encodeURIComponent(run)}`;
}
