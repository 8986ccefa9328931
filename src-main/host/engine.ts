// Boots the engine for a front door: the engine host (worker threads) and the api service over it.

import { createRequire } from 'node:module';
import { join } from 'node:path';
import { defaultBlocklistPath, userDataDir } from '../core/app-paths.ts';
import { appVersion } from '../core/app-version.ts';
import { demoFolder } from '../core/models/model-ref.ts';
import type { AppInfo } from '../shared/index.ts';
import { createApiService, type ApiService, type ApiServiceOptions } from './api-service.ts';
import { createEngineHost, type EngineHost, type EngineHostOptions } from './engine-host.ts';

export interface Engine {
  host: EngineHost;
  api: ApiService;
}

/** The version onnxruntime-node declares, read without loading its native binding on the serving thread. */
function onnxruntimePackageVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('onnxruntime-node/package.json') as { version: string }).version;
}

export function createEngine(
  transport: AppInfo['transport'],
  hostOptions: EngineHostOptions,
  desktop: Pick<ApiServiceOptions, 'reveal' | 'choosePath'> = {},
): Engine {
  const host = createEngineHost(hostOptions);
  const dataDir = userDataDir();
  const appInfo: AppInfo = {
    name: 'ToxScope',
    version: appVersion,
    transport,
    onnxruntimeVersion: onnxruntimePackageVersion(),
    platform: `${process.platform}-${process.arch}`,
    demoFolder: demoFolder(),
    resultsFolder: join(dataDir, 'results'),
    defaultBlocklist: defaultBlocklistPath(),
  };
  return { host, api: createApiService(host, appInfo, { dataDir, ...desktop }) };
}
