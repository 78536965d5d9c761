// Small records under string keys, each key with its own value type. Core declares its keys here;
// a feature declares its own next to the code that uses them, by declaration merging:
//   declare module '../../storage/kv' { interface KvSchema { 'podcast.reel': StoredReel } }
// so storage never imports a feature. Keys are namespaced by owner ('podcast.…', 'ml.selfcheck.…');
// a key whose value changes shape gets a new name or a migration in schema.ts, so a read value has its declared type.
import type { IDBPObjectStore, StoreNames } from 'idb';
import { openDb, writeAtomically } from './db';
import { wrapQuota } from './quota';
import type { AiMixerDB } from './schema';

export interface KvSchema {
  /** The session open in the studio, restored on reload. */
  currentSessionId: string;
}

export type KvKey = keyof KvSchema & string;
/** Every value some key may hold: what the kv object store accepts at all. */
export type KvValue = KvSchema[KvKey];

export async function kvGet<K extends KvKey>(key: K): Promise<KvSchema[K] | undefined> {
  return (await (await openDb()).get('kv', key)) as KvSchema[K] | undefined;
}

export function kvPut<K extends KvKey>(key: K, value: KvSchema[K]): Promise<void> {
  return wrapQuota(async () => {
    await (await openDb()).put('kv', value, key);
  });
}

export function kvDelete(key: KvKey): Promise<void> {
  return wrapQuota(async () => {
    await (await openDb()).delete('kv', key);
  });
}

/**
 * The key's value, or (when absent, or `isValid` rejects it) a new one from `create`, written in the same
 * transaction so two tabs asking at once end up with one value.
 */
export function kvGetOrPut<K extends KvKey>(key: K, create: () => KvSchema[K], isValid: (v: KvSchema[K]) => boolean = () => true): Promise<KvSchema[K]> {
  return wrapQuota(() =>
    writeAtomically(['kv'], async (tx) => {
      const kv = txKv(tx.objectStore('kv'));
      const existing = await kv.get(key);
      if (existing !== undefined && isValid(existing)) return existing;
      const value = create();
      await kv.put(key, value);
      return value;
    }),
  );
}

/** Several keys read in one transaction, so they come from the same moment (no write of another tab in between). */
export async function kvGetMany<const Keys extends readonly KvKey[]>(keys: Keys): Promise<{ [I in keyof Keys]: KvSchema[Keys[I]] | undefined }> {
  const tx = (await openDb()).transaction('kv', 'readonly');
  const values = await Promise.all(keys.map((key) => tx.store.get(key)));
  await tx.done;
  return values as { [I in keyof Keys]: KvSchema[Keys[I]] | undefined };
}

type KvStore<Mode extends IDBTransactionMode> = IDBPObjectStore<AiMixerDB, ArrayLike<StoreNames<AiMixerDB>>, 'kv', Mode>;

export interface KvReader {
  get<K extends KvKey>(key: K): Promise<KvSchema[K] | undefined>;
}

export interface KvWriter extends KvReader {
  put<K extends KvKey>(key: K, value: KvSchema[K]): Promise<void>;
  delete(key: KvKey): Promise<void>;
}

/**
 * The kv store of a transaction, typed per key, for use inside writeAtomically:
 *   writeAtomically(['kv', 'featureBlobs'], async (tx) => { const kv = txKv(tx.objectStore('kv')); … })
 */
export function txKv(store: KvStore<'readwrite'>): KvWriter;
export function txKv(store: KvStore<'readonly'>): KvReader;
export function txKv(store: KvStore<'readwrite'> | KvStore<'readonly'>): KvReader | KvWriter {
  // A readonly store is only ever handed out as a KvReader (the overloads), so put is never reached on it.
  const writable = store as KvStore<'readwrite'>;
  return {
    get: async <K extends KvKey>(key: K) => (await store.get(key)) as KvSchema[K] | undefined,
    put: async (key, value) => {
      await writable.put(value, key);
    },
    delete: (key) => writable.delete(key),
  } satisfies KvWriter;
}
