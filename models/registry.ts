// Every auto-mix model the app offers: its registry entry (meta.json) and its runner, loaded on demand.
import type { AutomixRunner, ModelMeta } from '../src/shared/automix';
import equalLoudnessMeta from './equal-loudness/meta.json';
import mixnetFp32Meta from './mixnet/meta.fp32.json';
import mixnetFp16Meta from './mixnet/meta.fp16.json';
import mixnetInt8Meta from './mixnet/meta.int8.json';

export const MODEL_REGISTRY: readonly ModelMeta[] = [equalLoudnessMeta as ModelMeta, mixnetFp32Meta as ModelMeta, mixnetFp16Meta as ModelMeta, mixnetInt8Meta as ModelMeta];

const RUNNERS: Record<string, () => Promise<AutomixRunner>> = {
  // Dynamic imports keep a model's runner (and later its ORT session) out of the first load.
  'equal-loudness': async () => (await import('./equal-loudness/runner')).equalLoudnessRunner,
  'mixnet-fp32': () => mixnetRunner('fp32'),
  'mixnet-fp16': () => mixnetRunner('fp16'),
  'mixnet-int8': () => mixnetRunner('int8'),
};

/** A mixnet variant whose weights go through the hash-checked cache and the device self-check. */
async function mixnetRunner(variant: 'fp32' | 'fp16' | 'int8'): Promise<AutomixRunner> {
  const [{ createMixnetRunner, mixnetCheckFeeds, mixnetModelId, mixnetModelUrl }, { openRegistryModel }] = await Promise.all([
    import('./mixnet/runner'),
    import('../src/ml/registry-loader'),
  ]);
  return createMixnetRunner(variant, (v, opts) => openRegistryModel(modelMeta(mixnetModelId(v)), mixnetModelUrl(v).href, mixnetCheckFeeds, opts));
}

export function modelMeta(id: string): ModelMeta {
  const meta = MODEL_REGISTRY.find((m) => m.id === id);
  if (!meta) throw new Error(`Unknown auto-mix model "${id}"; the registry has ${MODEL_REGISTRY.map((m) => m.id).join(', ')}.`);
  return meta;
}

export async function runnerFor(id: string): Promise<AutomixRunner> {
  const load = RUNNERS[id];
  if (!load) throw new Error(`Auto-mix model "${id}" has no runner; the registry has ${Object.keys(RUNNERS).join(', ')}.`);
  return load();
}
