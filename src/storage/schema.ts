import type { DBSchema, IDBPDatabase } from 'idb';
import type { SessionRecord } from '../shared/session';

export const DB_NAME = 'ai-mixer';
export const DB_VERSION = 1;

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

export type KvKey = 'currentSessionId' | 'clientId' | 'settings' | (string & {});

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
  kv: { key: KvKey; value: unknown };
}

/** Each case migrates from the version before it, so a user several versions behind keeps their data. */
export function upgradeSchema(db: IDBPDatabase<AiMixerDB>, oldVersion: number, newVersion: number | null): void {
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
    }
  }
}
