// Types of huge-pages.js, for the TypeScript that imports it (the benches).
export declare function hugePagesEnv(env?: NodeJS.ProcessEnv, kernelSetting?: string): NodeJS.ProcessEnv | null;
export declare const hugePagesTunable: string;
export declare function kernelHugePagesMode(kernelSetting?: string): string | null;
