// The README tour's pictures (README.md, "The first five minutes"): their names and folder, shared by the e2e tests
// that take them and the check that the README shows them.

export const tourDir = 'docs/tour';
export const tourNames = ['1-models', '2-compare', '3-neuron', '4-interventions', '5-detox-review'] as const;
export type TourName = (typeof tourNames)[number];
