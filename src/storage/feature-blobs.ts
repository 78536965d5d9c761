// Binary results of features (generated clips, separated stems, MIDI), one record per result, listed and
// deletable in the Storage dialog. A feature declares its name and its meta type next to its code:
//   declare module '../../storage/feature-blobs' { interface FeatureBlobSchema { separation: { stem: string } } }
import type { IDBPObjectStore, StoreNames } from 'idb';
import { openDb, writeAtomically } from './db';
import { txKv, type KvWriter } from './kv';
import { wrapQuota } from './quota';
import type { AiMixerDB, StoredFeatureBlob } from './schema';

// Empty in core: each feature adds its own entry, so no feature is known here.
export interface FeatureBlobSchema {}

export type FeatureName = keyof FeatureBlobSchema & string;

export interface FeatureBlob<F extends FeatureName = FeatureName> {
  feature: F;
  id: string;
  label: string;
  blob: Blob;
  bytes: number;
  meta: FeatureBlobSchema[F];
  savedAt: number;
}

export interface NewFeatureBlob<F extends FeatureName> {
  /** Unique within the feature; the same id replaces the earlier result. */
  id: string;
  /** What the Storage dialog shows, e.g. the prompt or the source file's name. */
  label: string;
  blob: Blob;
  meta: FeatureBlobSchema[F];
  savedAt?: number;
}

export function featureBlobKey(feature: string, id: string): string {
  return `${feature}/${id}`;
}

function toRecord<F extends FeatureName>(feature: F, blob: NewFeatureBlob<F>): StoredFeatureBlob {
  return {
    key: featureBlobKey(feature, blob.id),
    feature,
    id: blob.id,
    label: blob.label,
    blob: blob.blob,
    bytes: blob.blob.size,
    meta: blob.meta,
    savedAt: blob.savedAt ?? Date.now(),
  };
}

function fromRecord<F extends FeatureName>(rec: StoredFeatureBlob): FeatureBlob<F> {
  const { key: _key, ...rest } = rec;
  return rest as FeatureBlob<F>;
}

/** Stores (or replaces) a result; a full disk rejects with StorageFullError and stores nothing. */
export async function putFeatureBlob<F extends FeatureName>(feature: F, blob: NewFeatureBlob<F>): Promise<FeatureBlob<F>> {
  const record = toRecord(feature, blob);
  await wrapQuota(async () => {
    await (await openDb()).put('featureBlobs', record);
  });
  return fromRecord<F>(record);
}

export async function getFeatureBlob<F extends FeatureName>(feature: F, id: string): Promise<FeatureBlob<F> | undefined> {
  const rec = await (await openDb()).get('featureBlobs', featureBlobKey(feature, id));
  return rec && fromRecord<F>(rec);
}

/** The feature's results, newest first. Blobs load lazily, so listing costs only the metadata. */
export async function listFeatureBlobs<F extends FeatureName>(feature: F): Promise<FeatureBlob<F>[]> {
  const all = await (await openDb()).getAllFromIndex('featureBlobs', 'feature', feature);
  return all.sort((a, b) => b.savedAt - a.savedAt).map((rec) => fromRecord<F>(rec));
}

export function deleteFeatureBlob(feature: FeatureName, id: string): Promise<void> {
  return wrapQuota(async () => {
    await (await openDb()).delete('featureBlobs', featureBlobKey(feature, id));
  });
}

type BlobStore<Mode extends IDBTransactionMode> = IDBPObjectStore<AiMixerDB, ArrayLike<StoreNames<AiMixerDB>>, 'featureBlobs', Mode>;

export interface FeatureBlobWriter {
  get<F extends FeatureName>(feature: F, id: string): Promise<FeatureBlob<F> | undefined>;
  put<F extends FeatureName>(feature: F, blob: NewFeatureBlob<F>): Promise<void>;
  delete(feature: FeatureName, id: string): Promise<void>;
}

/** The featureBlobs store of a writeAtomically transaction, typed per feature (e.g. a result and its kv queue entry together). */
export function txFeatureBlobs(store: BlobStore<'readwrite'>): FeatureBlobWriter {
  return {
    get: async <F extends FeatureName>(feature: F, id: string) => {
      const rec = await store.get(featureBlobKey(feature, id));
      return rec && fromRecord<F>(rec);
    },
    put: async (feature, blob) => {
      await store.put(toRecord(feature, blob));
    },
    delete: (feature, id) => store.delete(featureBlobKey(feature, id)),
  };
}

/**
 * Writes kv entries and feature blobs in one transaction, all or nothing (a result together with its queue entry),
 * with a full disk reported as StorageFullError. A throw inside `write` leaves both stores as they were.
 */
export function writeFeatureData<T>(write: (stores: { kv: KvWriter; blobs: FeatureBlobWriter }) => Promise<T>): Promise<T> {
  return wrapQuota(() => writeAtomically(['kv', 'featureBlobs'], (tx) => write({ kv: txKv(tx.objectStore('kv')), blobs: txFeatureBlobs(tx.objectStore('featureBlobs')) })));
}
