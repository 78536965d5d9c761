import type { DBSchema, IDBPDatabase, IDBPObjectStore, IDBPTransaction, StoreNames } from 'idb';
import type { SessionRecord } from '../shared/session';
import type { KvKey, KvValue } from './kv';

export const DB_NAME = 'ai-mixer';
/** 2: kv keys namespaced by owner, the podcast file moved to featureBlobs, the featureBlobs store added. */
export const DB_VERSION = 2;

/** A track's planar audio as stored: ArrayBuffers clone into IndexedDB without per-sample cost. */
export interface StoredTrackAudio {
  sessionId: string;
  trackId: string;
  sampleRate: number;
  /** One per channel: a Blob when the decoder made it (see EncodedChannels), else an ArrayBuffer. */
  channels: (ArrayBuffer | Blob)[];
  /**
   * Sample format of the channels: 'f32' (records without it are 'f32') or 'i16', for audio that is
   * exactly 16-bit (value × 32768 an integer), stored at half the size and read back bit-exact.
   */
  encoding?: 'f32' | 'i16';
  /** Sum of the channel byte lengths, so usage can be totalled without loading audio. */
  bytes: number;
}

/** A rendered master the user can download again. */
export interface ExportRecord {
  id: string;
  sessionId: string;
  name: string;
  format: string;
  mime: string;
  createdAt: number;
  bytes: number;
  blob: Blob;
  lufs?: number;
  truePeakDb?: number;
}

/** Model weights cached for offline use, checked against their published hash. */
export interface ModelRecord {
  id: string;
  version: string;
  sha256: string;
  bytes: number;
  data: ArrayBuffer;
  fetchedAt: number;
}

/** One tournament vote; its shape belongs to the tournament, storage needs only id and time. */
export type VoteRecord = Record<string, unknown> & { id: string; ts: number };

/**
 * A feature's binary result (a generated clip, separated stems, a transcription's MIDI), as stored.
 * `meta` is typed per feature by FeatureBlobSchema in feature-blobs.ts; here it is opaque.
 */
export interface StoredFeatureBlob {
  /** `${feature}/${id}`: one string key, so the Storage dialog can name any item by one id. */
  key: string;
  feature: string;
  id: string;
  /** What the Storage dialog shows. */
  label: string;
  blob: Blob;
  bytes: number;
  meta: unknown;
  savedAt: number;
}

export interface AiMixerDB extends DBSchema {
  sessions: { key: string; value: SessionRecord };
  trackAudio: {
    key: [sessionId: string, trackId: string];
    value: StoredTrackAudio;
    indexes: { sessionId: string; bytes: number };
  };
  exports: { key: string; value: ExportRecord; indexes: { sessionId: string } };
  models: { key: string; value: ModelRecord; indexes: { bytes: number } };
  votes: { key: string; value: VoteRecord };
  /** Values follow KvSchema (kv.ts): a value no key declares fails to compile; kvGet/kvPut tie each key to its own. */
  kv: { key: KvKey; value: KvValue };
  featureBlobs: { key: string; value: StoredFeatureBlob; indexes: { feature: string } };
}

type UpgradeTx = IDBPTransaction<AiMixerDB, StoreNames<AiMixerDB>[], 'versionchange'>;
// Migrations read keys and shapes of older versions, which the current types no longer name.
type UntypedStore = IDBPObjectStore<unknown, ArrayLike<string>, string, 'versionchange'>;

/**
 * Each case migrates from the version before it, so a user several versions behind keeps their data.
 * Store changes happen synchronously; record moves are requests in the same transaction, and the
 * returned promise settles when they are done (on failure the caller aborts, leaving the old data as it was).
 */
export function upgradeSchema(db: IDBPDatabase<AiMixerDB>, oldVersion: number, newVersion: number | null, tx: UpgradeTx): Promise<void> {
  let migrations = Promise.resolve();
  for (let version = oldVersion + 1; version <= (newVersion ?? DB_VERSION); version++) {
    switch (version) {
      case 1: {
        db.createObjectStore('sessions', { keyPath: 'id' });
        const audio = db.createObjectStore('trackAudio', { keyPath: ['sessionId', 'trackId'] });
        audio.createIndex('sessionId', 'sessionId');
        // A key cursor over this index reads sizes without pulling audio into memory.
        audio.createIndex('bytes', 'bytes');
        db.createObjectStore('exports', { keyPath: 'id' }).createIndex('sessionId', 'sessionId');
        db.createObjectStore('models', { keyPath: 'id' }).createIndex('bytes', 'bytes');
        db.createObjectStore('votes', { keyPath: 'id' });
        db.createObjectStore('kv');
        break;
      }
      case 2: {
        db.createObjectStore('featureBlobs', { keyPath: 'key' }).createIndex('feature', 'feature');
        // A database made at version 2 has nothing to move.
        if (oldVersion >= 1) {
          const kv = tx.objectStore('kv') as unknown as UntypedStore;
          const blobs = tx.objectStore('featureBlobs') as unknown as UntypedStore;
          migrations = migrations.then(() => migrateToV2(kv, blobs));
        }
        break;
      }
    }
  }
  return migrations;
}

/** Version 1's kv keys, by the name each has from version 2 on (its owner's namespace first). */
const V1_KV_RENAMES: Record<string, string> = {
  clientId: 'tournament.clientId',
  voteSync: 'tournament.sync',
  tournament: 'tournament.state',
  'podcast:episode': 'podcast.episode',
  'podcast:analysis': 'podcast.analysis',
  'podcast:reel': 'podcast.reel',
};
const V1_SELFCHECK_PREFIX = 'selfcheck:';
const V1_PODCAST_FILE = 'podcast:file';

async function migrateToV2(kv: UntypedStore, blobs: UntypedStore): Promise<void> {
  for (const [from, to] of Object.entries(V1_KV_RENAMES)) await renameKey(kv, from, to);
  // Per-model self-checks: one key per model id, read by key range rather than by a list of ids.
  const range = IDBKeyRange.bound(V1_SELFCHECK_PREFIX, `${V1_SELFCHECK_PREFIX}\uffff`);
  for (const key of (await kv.getAllKeys(range)) as string[]) {
    await renameKey(kv, key, `ml.selfcheck.${key.slice(V1_SELFCHECK_PREFIX.length)}`);
  }
  // The episode file is the podcast's large part: as a feature blob, the Storage dialog lists it.
  const file: unknown = await kv.get(V1_PODCAST_FILE);
  const episode = (await kv.get('podcast.episode')) as { id?: unknown; name?: unknown; savedAt?: unknown } | undefined;
  if (file instanceof Blob && typeof episode?.id === 'string') {
    const record: StoredFeatureBlob = {
      key: 'podcast/episode',
      feature: 'podcast',
      id: 'episode',
      label: typeof episode.name === 'string' ? episode.name : 'Podcast episode',
      blob: file,
      bytes: file.size,
      meta: { episodeId: episode.id },
      savedAt: typeof episode.savedAt === 'number' ? episode.savedAt : Date.now(),
    };
    await blobs.put(record);
  }
  // Without its episode record version 1 could not restore the file either.
  await kv.delete(V1_PODCAST_FILE);
}

async function renameKey(kv: UntypedStore, from: string, to: string): Promise<void> {
  const value: unknown = await kv.get(from);
  if (value === undefined) return;
  await kv.put(value, to);
  await kv.delete(from);
}
