// Every model the app offers, for every task: each models/<folder>/meta.json is an entry (or an array of dtype
// variants), so adding a model is adding a folder. Runners load on demand from the folder's runner.ts.
import type { AutomixRunner } from '../src/shared/automix';
import type { ModelMeta, ModelTask } from '../src/shared/model-meta';
import { entriesFor, entryById, registryEntries, type RegisteredModel } from './entries';

export type { RegisteredModel } from './entries';

export const MODEL_REGISTRY: readonly RegisteredModel[] = registryEntries(import.meta.glob('./*/meta.json', { eager: true, import: 'default' }));

export function modelsFor<T extends ModelTask>(task: T): RegisteredModel<T>[] {
  return entriesFor(MODEL_REGISTRY, task);
}

export function modelMeta<T extends ModelTask = ModelTask>(id: string, task?: T): RegisteredModel<T> {
  return entryById(MODEL_REGISTRY, id, task);
}

/** What a folder's runner.ts exports for each task it serves. */
interface RunnerModule {
  automixRunner?: (meta: ModelMeta) => Promise<AutomixRunner>;
}

// Lazy: a runner (and later its ORT session) stays out of the first load.
const RUNNERS = import.meta.glob<RunnerModule>('./*/runner.ts');

export async function runnerFor(id: string): Promise<AutomixRunner> {
  const meta = modelsFor('automix').find((m) => m.id === id);
  const load = meta && RUNNERS[`./${meta.folder}/runner.ts`];
  const factory = load && (await load()).automixRunner;
  if (!meta || !factory) {
    const withRunner = modelsFor('automix').filter((m) => RUNNERS[`./${m.folder}/runner.ts`]);
    throw new Error(`Auto-mix model "${id}" has no runner; the registry has ${withRunner.map((m) => m.id).join(', ')}.`);
  }
  return factory(meta);
}
