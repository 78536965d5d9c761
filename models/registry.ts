// Every auto-mix model the app offers: its registry entry (meta.json) and its runner, loaded on demand.
import type { AutomixRunner, ModelMeta } from '../src/shared/automix';
import equalLoudnessMeta from './equal-loudness/meta.json';

export const MODEL_REGISTRY: readonly ModelMeta[] = [equalLoudnessMeta as ModelMeta];

const RUNNERS: Record<string, () => Promise<AutomixRunner>> = {
  // Dynamic imports keep a model's runner (and later its ORT session) out of the first load.
  'equal-loudness': async () => (await import('./equal-loudness/runner')).equalLoudnessRunner,
};

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
