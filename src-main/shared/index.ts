// The shared contract's public surface: import from here in core, host, front doors and renderer.

export * from './errors.ts';
export * from './guards.ts';
export * from './device.ts';
export * from './jobs.ts';
export * from './contract.ts';
export * from './hook-names.ts';
export * from './compare.ts';
export * from './detox-settings.ts';
export * from './demo.ts';
export * from './results.ts';
export * from './neuron-ranking.ts';
export * from './toxicity.ts';
export * from './scale-out.ts';
