// The bundled demo models (`demo:NAME`, resources/demo/) and what each is for, so every front door lists them alike.

export const demoModels = [
  'gpt2-base',
  'gpt2-dpo',
  'probe',
  'llama-base',
  'llama-dpo',
  'llama-probe',
  'bart-base',
  'bart-expert',
  'bart-anti-expert',
] as const;
export type DemoModelName = (typeof demoModels)[number];

/**
 * The demo toxicity classifiers (`demo:classifier`): loaded by `classify` and the detox gate, not by the language-model
 * commands, so they are listed apart from demoModels.
 */
export const demoClassifiers = ['classifier'] as const;
export type DemoClassifierName = (typeof demoClassifiers)[number];

export const demoClassifierRoles: Record<DemoClassifierName, string> = {
  classifier: 'RoBERTa toxicity classifier: classify, and the detox gate’s default',
};

/** The demo probes (a folder holding probe.safetensors), each with the language model whose residual stream it reads. */
export const demoProbes = { probe: 'gpt2-base', 'llama-probe': 'llama-base' } as const satisfies Partial<
  Record<DemoModelName, DemoModelName>
>;
export type DemoProbeName = keyof typeof demoProbes;

export function isDemoProbe(name: string): name is DemoProbeName {
  return Object.hasOwn(demoProbes, name);
}

export const demoModelRoles: Record<DemoModelName, string> = {
  'gpt2-base': 'GPT-2 language model: the base of the DPO comparison',
  'gpt2-dpo': 'gpt2-base after DPO towards less toxic continuations',
  probe: 'Toxicity probe on gpt2-base’s last-layer residual',
  'llama-base': 'Llama language model (GQA, gated MLP, RoPE): the base of a second DPO comparison',
  'llama-dpo': 'llama-base after DPO towards less toxic continuations',
  'llama-probe': 'Toxicity probe on llama-base’s last-layer residual',
  'bart-base': 'BART base of the MaRCo detox trio',
  'bart-expert': 'BART continued on non-toxic text (the expert)',
  'bart-anti-expert': 'BART continued on toxic text (the anti-expert)',
};
