// Types of malloc-env.js, for the TypeScript that imports it (the core's doctor, the benches, the tests).
export declare const hugePagesTunable: string;
export declare const keepFreedMemoryTunables: string[];
export declare function kernelHugePagesMode(kernelSetting?: string): string | null;
export declare function keepsFreedMemory(tunables?: string): boolean;
export declare function mallocEnv(
  env?: NodeJS.ProcessEnv,
  options?: { oneJob?: boolean; kernelSetting?: string },
): NodeJS.ProcessEnv | null;
