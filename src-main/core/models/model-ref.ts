// Resolves a user's model reference to a folder in Hugging Face layout, offline: a path, an `org/name` repo id
// in the local Hugging Face cache, or a bundled `demo:` model. Never touches the network.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { demoClassifiers, demoModels, raise, type CachedModel } from '../../shared/index.ts';
import { appRoot } from '../app-paths.ts';

export interface ResolvedModel {
  /** What the user typed. */
  reference: string;
  /** The folder holding config.json, tokenizer and weights. */
  folder: string;
  source: 'folder' | 'hf-cache' | 'demo';
}

/** The bundled demo models: resources/demo/ in the app folder ($TOXSCOPE_DEMO_DIR overrides). */
export function demoFolder(): string {
  return process.env.TOXSCOPE_DEMO_DIR ?? join(appRoot(), 'resources', 'demo');
}

/** The local Hugging Face hub cache, as huggingface_hub finds it. */
export function huggingFaceCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return join(env.HF_HOME, 'hub');
  return join(os.homedir(), '.cache', 'huggingface', 'hub');
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** `org/name` → models--org--name/snapshots/<revision of refs/main>. */
export function resolveCachedRepo(repoId: string, cacheDir = huggingFaceCacheDir()): string | null {
  const repoDir = join(cacheDir, `models--${repoId.replace('/', '--')}`);
  if (!isDirectory(repoDir)) return null;
  const refFile = join(repoDir, 'refs', 'main');
  const snapshots = join(repoDir, 'snapshots');
  if (existsSync(refFile)) {
    const revision = readFileSync(refFile, 'utf8').trim();
    if (isDirectory(join(snapshots, revision))) return join(snapshots, revision);
  }
  const available = isDirectory(snapshots) ? readdirSync(snapshots) : [];
  return available.length === 1 ? join(snapshots, available[0]!) : null;
}

/** Every model in the hub cache whose snapshot has a config.json: the Models page lists them. */
export function listCachedModels(cacheDir = huggingFaceCacheDir()): CachedModel[] {
  if (!isDirectory(cacheDir)) return [];
  return readdirSync(cacheDir)
    .filter((name) => name.startsWith('models--') && name.length > 'models--'.length)
    .flatMap((name) => {
      const reference = name.slice('models--'.length).replace('--', '/');
      const folder = resolveCachedRepo(reference, cacheDir);
      if (!folder || !existsSync(join(folder, 'config.json'))) return [];
      // An unreadable config.json is listed anyway; inspecting the model says what is wrong with it.
      let architecture: string | null = null;
      try {
        const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as { model_type?: unknown };
        if (typeof config.model_type === 'string') architecture = config.model_type;
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error;
      }
      // Snapshot files are links into blobs/; statSync follows them to the real sizes.
      const sizeBytes = readdirSync(folder).reduce((sum, file) => {
        try {
          return sum + statSync(join(folder, file)).size;
        } catch {
          return sum; // a dangling link to a blob that was never downloaded
        }
      }, 0);
      return [{ reference, folder, architecture, sizeBytes }];
    })
    .sort((a, b) => a.reference.localeCompare(b.reference));
}

export function resolveModelRef(reference: string): ResolvedModel {
  if (reference.startsWith('demo:')) {
    const name = reference.slice('demo:'.length);
    const known: readonly string[] = [...demoModels, ...demoClassifiers];
    if (!known.includes(name)) {
      raise(
        'MODEL_NOT_FOUND',
        `There is no demo model "${name}".`,
        `Demo models: ${known.map((model) => `demo:${model}`).join(', ')}.`,
      );
    }
    const folder = join(demoFolder(), name);
    if (!isDirectory(folder)) {
      raise(
        'MODEL_NOT_FOUND',
        `The demo model ${reference} is not installed (no folder ${folder}).`,
        'Rebuild the demo models with `npm run demo:train`, or pass a model folder.',
      );
    }
    return { reference, folder, source: 'demo' };
  }
  const asPath = resolve(reference);
  if (isDirectory(asPath)) return { reference, folder: asPath, source: 'folder' };
  // `gpt2` and `org/name` are what Hugging Face calls a repo id: look for it in the cache before calling it a path.
  const weightsFile = /\.(safetensors|bin|pt|pth|ckpt)$/i.test(reference);
  if (/^[\w-][\w.-]*(\/[\w-][\w.-]*)?$/.test(reference) && !weightsFile) {
    const cacheDir = huggingFaceCacheDir();
    const cached = resolveCachedRepo(reference, cacheDir);
    if (cached) return { reference, folder: cached, source: 'hf-cache' };
    const repoDir = join(cacheDir, `models--${reference.replace('/', '--')}`);
    const found = isDirectory(repoDir)
      ? `${repoDir} exists but has no snapshot that refs/main names`
      : `there is no ${repoDir}`;
    raise(
      'MODEL_NOT_FOUND',
      `"${reference}" was looked up in the local Hugging Face cache (${cacheDir}) and is not there: ${found}. It is not a folder either (no ${asPath}).`,
      `ToxScope never downloads. On a machine with network, download it (\`huggingface-cli download ${reference}\`), then copy its models--${reference.replace('/', '--')} folder into ${cacheDir}, or set HF_HOME (or HF_HUB_CACHE) to the cache that holds it; or pass the folder that holds its config.json and weights.`,
    );
  }
  return raise(
    'MODEL_NOT_FOUND',
    weightsFile ? `No weights file at ${asPath}.` : `No model folder at ${asPath}.`,
    'Pass a folder with config.json, tokenizer files and weights, an org/name in your Hugging Face cache, or demo:gpt2-base.',
  );
}
