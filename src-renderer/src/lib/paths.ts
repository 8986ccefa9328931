// File paths built in the renderer (which has no node:path): joined with the separator the folder already uses.

export function joinPath(folder: string, name: string): string {
  const separator = folder.includes('\\') && !folder.includes('/') ? '\\' : '/';
  return folder.endsWith(separator) ? folder + name : folder + separator + name;
}

/** A folder name for a new run, e.g. compare-2026-11-27T04-31-05: sortable, unique per second, safe on every OS. */
export function timestampName(kind: string, now = new Date()): string {
  return `${kind}-${now.toISOString().slice(0, 19).replaceAll(':', '-')}`;
}
