// The votes store: one record per vote, keyed by its id. What a vote holds belongs to the tournament;
// here records are kept, read and updated, each batch in one transaction.
import { openDb, writeAtomically } from './db';
import { wrapQuota } from './quota';
import type { VoteRecord } from './schema';

export function putVoteRecord(record: VoteRecord): Promise<void> {
  return wrapQuota(async () => {
    await (await openDb()).put('votes', record);
  });
}

/** Every record as stored, in key order; records an older app wrote may have another shape. */
export async function listVoteRecords(): Promise<VoteRecord[]> {
  return (await openDb()).getAll('votes');
}

/** Replaces each listed record by `update(record)` in one transaction; undefined (or a missing id) leaves it. */
export function updateVoteRecords(ids: readonly string[], update: (record: VoteRecord) => VoteRecord | undefined): Promise<void> {
  return wrapQuota(() =>
    writeAtomically(['votes'], async (tx) => {
      const store = tx.objectStore('votes');
      for (const id of ids) {
        const record = await store.get(id);
        const updated = record && update(record);
        if (updated) await store.put(updated);
      }
    }),
  );
}

/** Adds records in one transaction; ids already stored, or repeated in the batch, are skipped, never overwritten. */
export function addNewVoteRecords(records: readonly VoteRecord[]): Promise<{ added: number; duplicates: number }> {
  return wrapQuota(() =>
    writeAtomically(['votes'], async (tx) => {
      const store = tx.objectStore('votes');
      let added = 0;
      let duplicates = 0;
      const seen = new Set<string>();
      for (const record of records) {
        if (seen.has(record.id) || (await store.getKey(record.id)) !== undefined) {
          duplicates++;
          continue;
        }
        seen.add(record.id);
        await store.put(record);
        added++;
      }
      return { added, duplicates };
    }),
  );
}
