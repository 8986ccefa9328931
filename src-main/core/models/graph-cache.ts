// Built graphs cached on disk in the user data folder, keyed by the weights fingerprint, the model's config and the
// graph options, so a second load skips the build. Weights are never copied when they can be used in place: float32
// safetensors files are hard-linked beside the model (onnxruntime refuses external data outside the model's folder);
// other formats are converted once into a float32 safetensors file there.

import { createHash } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { GraphCacheCleared, GraphCacheUsage } from '../../shared/index.ts';
import { userDataDir } from '../app-paths.ts';
import { writeFileAtomic } from '../files/atomic-write.ts';
import { dumpGraph, encodeModel, type GraphSpec, type InitializerSpec } from '../onnx/graph-builder.ts';
import { writeSafetensorsDeferred, type DeferredTensor } from '../weights/safetensors.ts';
import type { StateDictTensor } from '../weights/state-dict.ts';

/** Bump when graph-building code changes what it writes, so stale cached graphs are rebuilt. */
export const graphBuilderVersion = 13;

export interface CachedGraph {
  modelPath: string;
  /** True when this call found the graph already built. */
  hit: boolean;
  /** How weights reach the graph: linked in place, or converted to float32 once. */
  weightsPlacement: 'linked' | 'converted' | 'mixed';
}

export function graphCacheDir(): string {
  return join(userDataDir(), 'graphs');
}

/** Bytes a deletion of `path` frees, and of those the saved prepacked copies': files with other hard links (the
 * user's linked checkpoints) free nothing. */
function freeableBytes(path: string, prepacked = false): { bytes: number; prepackedBytes: number } {
  const stat = statSync(path);
  if (!stat.isDirectory()) {
    const bytes = stat.nlink > 1 ? 0 : stat.size;
    return { bytes, prepackedBytes: prepacked ? bytes : 0 };
  }
  const total = { bytes: 0, prepackedBytes: 0 };
  for (const name of readdirSync(path)) {
    const inner = freeableBytes(join(path, name), prepacked || name.startsWith('prepacked-'));
    total.bytes += inner.bytes;
    total.prepackedBytes += inner.prepackedBytes;
  }
  return total;
}

function graphFolders(): string[] {
  const folder = graphCacheDir();
  return existsSync(folder)
    ? readdirSync(folder, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => join(folder, entry.name))
    : [];
}

/** How much disk the graph cache takes and how much of it is saved prepacked weights. */
export function graphCacheUsage(): GraphCacheUsage {
  const usage = { folder: graphCacheDir(), graphs: 0, bytes: 0, prepackedBytes: 0 };
  for (const folder of graphFolders()) {
    const freeable = freeableBytes(folder);
    usage.graphs++;
    usage.bytes += freeable.bytes;
    usage.prepackedBytes += freeable.prepackedBytes;
  }
  return usage;
}

/** Deletes every cached graph (the next load of each model rebuilds it); the user's checkpoints are never touched,
 * only ToxScope's hard links to them. A folder that cannot be deleted (in use on Windows) is kept and named. */
export function clearGraphCache(): GraphCacheCleared {
  const cleared: GraphCacheCleared = { removed: 0, freedBytes: 0, kept: [] };
  for (const folder of graphFolders()) {
    const { bytes } = freeableBytes(folder);
    try {
      rmSync(folder, { recursive: true });
      cleared.removed++;
      cleared.freedBytes += bytes;
    } catch {
      cleared.kept.push(folder);
    }
  }
  return cleared;
}

function linkOrNull(source: string, target: string): boolean {
  try {
    if (existsSync(target)) {
      if (statSync(target).ino === statSync(source).ino) return true;
      rmSync(target);
    }
    linkSync(source, target);
    return true;
  } catch {
    return false; // another filesystem, or links not permitted: fall back to converting
  }
}

/**
 * Removes the graphs an earlier graph builder wrote (their meta.json names an older graphBuilderVersion): this
 * version never reads them again, and they can hold converted weights and saved prepacked copies of many GB. Folders
 * without a meta.json (a build in progress) and those of a newer version are left alone, as is a folder that cannot
 * be removed (in use on Windows). Linked checkpoints lose only their link.
 */
export function removeOutdatedGraphs(): void {
  const root = graphCacheDir();
  for (const entry of existsSync(root) ? readdirSync(root, { withFileTypes: true }) : []) {
    if (!entry.isDirectory()) continue;
    try {
      const meta = JSON.parse(readFileSync(join(root, entry.name, 'meta.json'), 'utf8')) as {
        graphBuilderVersion?: unknown;
      };
      if (typeof meta.graphBuilderVersion !== 'number' || meta.graphBuilderVersion >= graphBuilderVersion) continue;
      rmSync(join(root, entry.name), { recursive: true, force: true });
    } catch {
      // no meta.json yet (a build in progress), unreadable, or in use: left for a later build
    }
  }
}

/**
 * What a graph is built from besides its options: the weights' fingerprint and the model's parsed configuration. The
 * configuration is part of the key because the same weights build other graphs under another config.json (Gemma-2
 * without its soft-caps, another rope_theta, a window): keyed by the weights alone, a folder whose config.json changed
 * reused the graph built from the old one.
 */
export interface GraphSource {
  fingerprint: string;
  config: unknown;
}

/**
 * Returns the path of a built model.onnx for this source and options, building it when missing (and then first
 * removes the graphs of earlier builders, see removeOutdatedGraphs).
 * `build` receives a function that places each named weight tensor and returns its initializer.
 */
export function prepareCachedGraph(
  source: GraphSource,
  options: unknown,
  weights: Map<string, StateDictTensor>,
  build: (weight: (name: string, dims: number[]) => InitializerSpec) => GraphSpec,
): CachedGraph {
  const key = createHash('sha256')
    .update(JSON.stringify({ graphBuilderVersion, ...source, options }))
    .digest('hex')
    .slice(0, 24);
  const folder = join(graphCacheDir(), key);
  const modelPath = join(folder, 'model.onnx');
  const metaPath = join(folder, 'meta.json');
  if (existsSync(modelPath) && existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as {
      weightsPlacement: CachedGraph['weightsPlacement'];
      linkedFiles: string[];
    };
    if (meta.linkedFiles.every((file) => existsSync(join(folder, file))))
      return { modelPath, hit: true, weightsPlacement: meta.weightsPlacement };
  }
  removeOutdatedGraphs();
  mkdirSync(folder, { recursive: true });

  const linkedNames = new Map<string, string | null>(); // source path → linked basename (null = could not link)
  const converted: DeferredTensor[] = []; // read, converted and written one at a time after the build
  let convertedOffset = 0;
  const place = (name: string, dims: number[]): InitializerSpec => {
    const tensor = weights.get(name);
    if (!tensor) throw new RangeError(`graph asks for weight ${name}, which the model does not have`);
    const location = tensor.location;
    if (location) {
      if (!linkedNames.has(location.path)) {
        const linked = `weights-${linkedNames.size}-${basename(location.path)}`;
        linkedNames.set(location.path, linkOrNull(location.path, join(folder, linked)) ? linked : null);
      }
      const linked = linkedNames.get(location.path);
      if (linked)
        return {
          name,
          type: 'float32',
          dims,
          external: { location: linked, offset: location.offset, length: location.byteLength },
        };
    }
    const byteLength = 4 * dims.reduce((product, dim) => product * dim, 1);
    converted.push({ name, shape: dims, read: () => tensor.read() });
    const spec: InitializerSpec = {
      name,
      type: 'float32',
      dims,
      external: { location: 'converted.safetensors', offset: convertedOffset, length: byteLength },
    };
    convertedOffset += byteLength;
    return spec;
  };

  const graph = build(place);
  if (converted.length > 0) {
    // Offsets above count from the start of the data section; shift them past the safetensors header.
    // (New objects: an alias shares its original's external object, which must not be shifted twice.)
    const dataStart = writeSafetensorsDeferred(join(folder, 'converted.safetensors'), converted);
    graph.initializers = graph.initializers?.map((initializer) =>
      'external' in initializer && initializer.external.location === 'converted.safetensors'
        ? { ...initializer, external: { ...initializer.external, offset: initializer.external.offset + dataStart } }
        : initializer,
    );
  }
  const linkedFiles = [...linkedNames.values()].filter((name): name is string => name !== null);
  const weightsPlacement = converted.length === 0 ? 'linked' : linkedFiles.length === 0 ? 'converted' : 'mixed';
  writeFileAtomic(join(folder, 'graph.txt'), dumpGraph(graph) + '\n');
  writeFileAtomic(modelPath, encodeModel(graph));
  writeFileAtomic(
    metaPath,
    JSON.stringify(
      {
        graphBuilderVersion,
        ...source,
        options,
        weightsPlacement,
        linkedFiles: [...linkedFiles, ...(converted.length ? ['converted.safetensors'] : [])],
      },
      null,
      2,
    ),
  );
  return { modelPath, hit: false, weightsPlacement };
}
