// Cached model weights: one record per model id, written whole or not at all.
import { openDb } from './db';
import { wrapQuota } from './quota';
import type { ModelRecord } from './schema';

export async function getCachedModel(id: string): Promise<ModelRecord | undefined> {
  return (await openDb()).get('models', id);
}

export async function putCachedModel(record: ModelRecord): Promise<void> {
  const db = await openDb();
  await wrapQuota(() => db.put('models', record));
}

export async function deleteCachedModel(id: string): Promise<void> {
  await (await openDb()).delete('models', id);
}
