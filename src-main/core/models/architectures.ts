// Reads config.json and dispatches on the architecture; unknown architectures are refused with the supported list.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { raise } from '../../shared/index.ts';

export const supportedArchitectures = ['gpt2', 'llama', 'mistral', 'qwen2', 'gemma2', 'bart'] as const;
export type Architecture = (typeof supportedArchitectures)[number];
/** The causal language models (one decoder implementation, see decoder/config.ts). */
export type DecoderArchitecture = Exclude<Architecture, 'bart'>;

export function isDecoderArchitecture(architecture: Architecture): architecture is DecoderArchitecture {
  return architecture !== 'bart';
}

export interface RawConfig {
  path: string;
  json: Record<string, unknown>;
  architecture: Architecture;
}

export function readModelConfig(folder: string): RawConfig {
  const path = join(folder, 'config.json');
  if (!existsSync(path)) {
    raise(
      'MODEL_NOT_FOUND',
      `${folder} has no config.json.`,
      'Pass the model folder as saved by save_pretrained (config.json beside the weights).',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    raise(
      'WEIGHTS_INVALID',
      `${path} is not valid JSON (${(error as Error).message}).`,
      'Restore config.json from the original model.',
    );
  }
  if (typeof json !== 'object' || json === null)
    raise('WEIGHTS_INVALID', `${path} is not a JSON object.`, 'Restore config.json.');
  const modelType = (json as { model_type?: unknown }).model_type;
  if (!(supportedArchitectures as readonly unknown[]).includes(modelType)) {
    raise(
      'WEIGHTS_INVALID',
      `${path} describes a "${String(modelType)}" model, which ToxScope does not support.`,
      `Supported architectures: ${supportedArchitectures.join(', ')} (model_type in config.json).`,
    );
  }
  return { path, json: json as Record<string, unknown>, architecture: modelType as Architecture };
}
