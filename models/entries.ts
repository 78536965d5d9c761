// The registry from the contents of models/<folder>/meta.json files, however they were read (Vite's glob in the
// app, the file system in Node scripts), so both see the same list in the same order.
import { parseModelEntries, type ModelMeta, type ModelTask } from '../src/shared/model-meta';

/** A registry entry and the folder it was found in (models/<folder>/), which holds its files and runner. */
export type RegisteredModel<T extends ModelTask = ModelTask> = ModelMeta & { readonly task: T; readonly folder: string };

const META_PATH = /^\.\/([^/]+)\/meta\.json$/;

/** `found` maps './<folder>/meta.json' to its parsed JSON; entries come in folder order, variants as listed. */
export function registryEntries(found: Record<string, unknown>): readonly RegisteredModel[] {
  const entries: RegisteredModel[] = [];
  const seen = new Map<string, string>();
  for (const path of Object.keys(found).sort()) {
    const folder = META_PATH.exec(path)?.[1];
    if (!folder) throw new Error(`${path}: a registry entry lives in models/<folder>/meta.json.`);
    for (const meta of parseModelEntries(`models/${folder}/meta.json`, found[path])) {
      const other = seen.get(meta.id);
      if (other) throw new Error(`Model id "${meta.id}" is in both models/${other}/meta.json and models/${folder}/meta.json; ids must be unique.`);
      seen.set(meta.id, folder);
      entries.push(Object.freeze({ ...meta, folder }));
    }
  }
  return Object.freeze(entries);
}

export function entriesFor<T extends ModelTask>(registry: readonly RegisteredModel[], task: T): RegisteredModel<T>[] {
  return registry.filter((m): m is RegisteredModel<T> => m.task === task);
}

const TASK_WORDS: Record<ModelTask, string> = {
  automix: 'auto-mix',
  vad: 'voice-activity',
  'text-to-music': 'text-to-music',
  separation: 'separation',
  transcription: 'transcription',
};

/** The entry with this id (of this task, when given); throws listing what the registry has. */
export function entryById<T extends ModelTask>(registry: readonly RegisteredModel[], id: string, task?: T): RegisteredModel<T> {
  const pool = task ? entriesFor(registry, task) : registry;
  const meta = pool.find((m) => m.id === id);
  if (!meta) {
    const what = task ? `${TASK_WORDS[task]} model` : 'model';
    throw new Error(`Unknown ${what} "${id}"; the registry has ${pool.map((m) => m.id).join(', ') || 'none'}.`);
  }
  return meta as RegisteredModel<T>;
}
