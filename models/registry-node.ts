// The registry in Node (scripts under tsx, where Vite's import.meta.glob does not exist): the same folders read
// with fs, the same entries (tests/unit/model-registry.test.ts holds both to one list), plus disk access.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelIntegrityError } from '../src/ml/model-fetch';
import { parseModelEntries, singleModelFile, type ModelFile, type ModelMeta, type ModelTask } from '../src/shared/model-meta';
import { entriesFor, entryById, registryEntries, type RegisteredModel } from './entries';

export const MODELS_DIR = dirname(fileURLToPath(import.meta.url));

/** Every models/<folder>/meta.json, read now. */
export function readModelRegistry(dir = MODELS_DIR): readonly RegisteredModel[] {
  const found: Record<string, unknown> = {};
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, d.name, 'meta.json');
    if (d.isDirectory() && existsSync(path)) found[`./${d.name}/meta.json`] = JSON.parse(readFileSync(path, 'utf8'));
  }
  return registryEntries(found);
}

export function nodeModelsFor<T extends ModelTask>(task: T): RegisteredModel<T>[] {
  return entriesFor(readModelRegistry(), task);
}

export function nodeModelMeta<T extends ModelTask = ModelTask>(id: string, task?: T): RegisteredModel<T> {
  return entryById(readModelRegistry(), id, task);
}

/** Where a shipped file of an entry lies on disk. */
export function modelFilePath(meta: RegisteredModel, file: ModelFile = singleModelFile(meta)): string {
  if (file.url) throw new Error(`${file.name} of model "${meta.id}" is not shipped: it loads from ${file.url}.`);
  return join(MODELS_DIR, meta.folder, file.name);
}

/** A shipped file's bytes, checked against the entry's SHA-256 and size (ModelIntegrityError otherwise). */
export function readModelFile(meta: RegisteredModel, file: ModelFile = singleModelFile(meta)): Uint8Array {
  const path = modelFilePath(meta, file);
  const bytes = new Uint8Array(readFileSync(path));
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== file.sha256 || bytes.length !== file.sizeBytes) {
    throw new ModelIntegrityError({ id: meta.id, version: meta.version, url: path, sha256: file.sha256, sizeBytes: file.sizeBytes }, actual);
  }
  return bytes;
}

/** Rewrites models/<folder>/meta.json with these entries (checked first): one object, or an array of variants. */
export function writeModelEntries(folder: string, entries: readonly ModelMeta[]): void {
  const clean = entries.map((m) => {
    const { folder: _folder, ...meta } = m as ModelMeta & { folder?: string };
    return meta;
  });
  const json = clean.length === 1 ? clean[0] : clean;
  const path = join(MODELS_DIR, folder, 'meta.json');
  parseModelEntries(`models/${folder}/meta.json`, json);
  writeFileSync(path + '.tmp', JSON.stringify(json, null, 2) + '\n');
  renameSync(path + '.tmp', path);
}
