import { UserFacingError } from '../shared/errors';
import { openDb, writeAtomically } from './db';

export class StorageFullError extends UserFacingError {
  constructor(options?: { cause?: unknown }) {
    super(
      'Browser storage is full, so this was not saved. Delete old sessions, exports or cached models ' +
        'in Storage, or free disk space, then try again.',
      'storage',
    );
    this.name = 'StorageFullError';
    if (options && 'cause' in options) this.cause = options.cause;
  }
}

// Firefox before 2020 used its own name for the same failure.
const QUOTA_NAMES = new Set(['QuotaExceededError', 'NS_ERROR_DOM_QUOTA_REACHED']);

/**
 * True for a quota failure, whether it arrives as the request's error, as the error of the
 * transaction it aborted (idb rejects `tx.done` with that), or wrapped as a `cause`.
 */
export function isQuotaError(e: unknown): boolean {
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++) {
    const { name, cause, error } = e as { name?: unknown; cause?: unknown; error?: unknown };
    if (typeof name === 'string' && QUOTA_NAMES.has(name)) return true;
    // An IDBRequest or IDBTransaction carries the reason in `error`; our own wrappers in `cause`.
    e = cause ?? error;
  }
  return false;
}

/** Every storage write goes through this, so a full disk reaches the user as one clear message. */
export async function wrapQuota<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    if (isQuotaError(e)) throw new StorageFullError({ cause: e });
    throw e;
  }
}

export type StorageItemKind = 'session' | 'export' | 'model' | 'votes' | 'feature';

export interface StorageItem {
  kind: StorageItemKind;
  /** What deleteStoredItem takes: a session, export or model id, 'votes', or a feature blob's `${feature}/${id}` key. */
  id: string;
  label: string;
  bytes: number;
  /** For kind 'feature': the feature that made it. */
  feature?: string;
}

export interface StorageUsage {
  quota?: number;
  usage?: number;
  persisted?: boolean;
  items: StorageItem[];
}

/** What this origin stores, largest first; sessions count their audio and peaks. */
export async function storageUsage(): Promise<StorageUsage> {
  const [estimate, items] = await Promise.all([browserEstimate(), storedItems()]);
  return { ...estimate, items: items.sort((a, b) => b.bytes - a.bytes) };
}

/** Asks the browser not to evict our data under pressure; false where it refuses or cannot. */
export async function requestPersistence(): Promise<boolean> {
  const storage = storageManager();
  if (!storage?.persist) return false;
  try {
    return await storage.persist();
  } catch {
    return false;
  }
}

// Workers' StorageManager has no persist(); one type serves both realms.
type OriginStorage = StorageManager & { persist?(): Promise<boolean> };

function storageManager(): OriginStorage | undefined {
  return typeof navigator === 'undefined' ? undefined : navigator.storage;
}

async function browserEstimate(): Promise<Omit<StorageUsage, 'items'>> {
  const storage = storageManager();
  if (!storage) return {};
  const [estimate, persisted] = await Promise.all([
    storage.estimate?.().catch(() => undefined),
    storage.persisted?.().catch(() => undefined),
  ]);
  return { quota: estimate?.quota, usage: estimate?.usage, persisted };
}

async function storedItems(): Promise<StorageItem[]> {
  const db = await openDb();
  const tx = db.transaction(['sessions', 'trackAudio', 'exports', 'models', 'votes', 'featureBlobs'], 'readonly');

  const audioBytes = new Map<string, number>();
  // Key cursors over the size index read [sessionId, trackId] and bytes, never the audio.
  for (let c = await tx.objectStore('trackAudio').index('bytes').openKeyCursor(); c; c = await c.continue()) {
    const [sessionId] = c.primaryKey;
    audioBytes.set(sessionId, (audioBytes.get(sessionId) ?? 0) + c.key);
  }
  const items: StorageItem[] = [];
  for (const s of await tx.objectStore('sessions').getAll()) {
    const peakBytes = s.tracks.reduce((sum, t) => sum + t.peaks.byteLength, 0);
    items.push({ kind: 'session', id: s.id, label: s.name, bytes: (audioBytes.get(s.id) ?? 0) + peakBytes });
  }
  // Blobs load lazily, so reading export records costs no more than their metadata.
  for (const x of await tx.objectStore('exports').getAll()) {
    items.push({ kind: 'export', id: x.id, label: x.name, bytes: x.bytes });
  }
  for (let c = await tx.objectStore('models').index('bytes').openKeyCursor(); c; c = await c.continue()) {
    items.push({ kind: 'model', id: c.primaryKey, label: c.primaryKey, bytes: c.key });
  }
  for (const b of await tx.objectStore('featureBlobs').getAll()) {
    items.push({ kind: 'feature', id: b.key, label: `${b.feature}: ${b.label}`, bytes: b.bytes, feature: b.feature });
  }
  const votes = await tx.objectStore('votes').getAll();
  if (votes.length > 0) {
    const bytes = new TextEncoder().encode(JSON.stringify(votes)).byteLength;
    const label = `${votes.length} tournament vote${votes.length === 1 ? '' : 's'}`;
    items.push({ kind: 'votes', id: 'votes', label, bytes });
  }
  await tx.done;
  return items;
}

/**
 * Deletes what the Storage dialog lists, other than sessions (deleteSession in sessions.ts also drops their audio
 * and exports). 'votes' is one item for all votes, so it clears them all.
 */
export function deleteStoredItem(kind: Exclude<StorageItemKind, 'session'>, id: string): Promise<void> {
  const store = ({ export: 'exports', model: 'models', votes: 'votes', feature: 'featureBlobs' } as const)[kind];
  // Deleting frees space, but the transaction itself can still meet a full disk.
  return wrapQuota(() =>
    writeAtomically([store], async (tx) => {
      if (store === 'votes') await tx.objectStore('votes').clear();
      else await tx.objectStore(store).delete(id);
    }),
  );
}
