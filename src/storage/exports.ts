// Rendered masters kept for download again later; each is one record with its file as a Blob.
import { openDb, writeAtomically } from './db';
import { StorageFullError, wrapQuota } from './quota';
import type { ExportRecord } from './schema';

/** What the caller knows about a new export; id, size and time are filled in here. */
export type NewExport = Omit<ExportRecord, 'id' | 'bytes' | 'createdAt'> & { createdAt?: number };

// IndexedDB stores a blob with some bookkeeping, and estimate() is itself approximate.
const QUOTA_MARGIN = 1.05;

function megabytes(bytes: number): string {
  return `${(Math.max(0, bytes) / 1e6).toFixed(1)} MB`;
}

/** Free bytes the browser reports for this origin, or undefined where it cannot tell. */
async function storageLeft(): Promise<number | undefined> {
  const storage = typeof navigator === 'undefined' ? undefined : navigator.storage;
  if (!storage?.estimate) return undefined;
  try {
    const { quota, usage } = await storage.estimate();
    return quota === undefined ? undefined : quota - (usage ?? 0);
  } catch {
    return undefined;
  }
}

/**
 * Stores an export, refusing up front (and writing nothing) when the browser says it will not fit,
 * since a failed 80 MB write costs the user the wait and can leave the origin at its quota.
 */
export async function saveExport(rec: NewExport): Promise<ExportRecord> {
  const record: ExportRecord = { ...rec, id: crypto.randomUUID(), bytes: rec.blob.size, createdAt: rec.createdAt ?? Date.now() };
  const left = await storageLeft();
  if (left !== undefined && record.bytes * QUOTA_MARGIN > left) {
    const error = new StorageFullError();
    // Same kind of failure as a quota error, with the numbers that make it actionable.
    error.message =
      `${record.name} (${megabytes(record.bytes)}) does not fit in the browser storage left (${megabytes(left)}). ` +
      'Delete old sessions or exports in Storage, or free disk space, then save it again; you can still download it now.';
    throw error;
  }
  await wrapQuota(() =>
    writeAtomically(['exports'], async (tx) => {
      await tx.objectStore('exports').add(record);
    }),
  );
  return record;
}

/** Newest first; with a session id, only that session's exports. */
export async function listExports(sessionId?: string): Promise<ExportRecord[]> {
  const db = await openDb();
  const all = sessionId === undefined ? await db.getAll('exports') : await db.getAllFromIndex('exports', 'sessionId', sessionId);
  return all.sort((a, b) => b.createdAt - a.createdAt);
}

export async function getExport(id: string): Promise<ExportRecord | undefined> {
  return (await openDb()).get('exports', id);
}

export function deleteExport(id: string): Promise<void> {
  return wrapQuota(async () => {
    await (await openDb()).delete('exports', id);
  });
}
