// Storage version 3 adds the metricEvents store: a database written at version 2 (or 1) opens with every record as it
// was and an empty, time-indexed store for usage metrics; a migration that fails leaves version 2 as it was.
import 'fake-indexeddb/auto';
import { deleteDB, openDB, type IDBPDatabase } from 'idb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { closeDb, openDb, UpgradeFailedError } from '../../src/storage/db';
import { getFeatureBlob } from '../../src/storage/feature-blobs';
import { kvGet } from '../../src/storage/kv';
import { appendMetricEvents, countMetricEvents, listMetricEvents } from '../../src/storage/metric-events';
import { DB_NAME, DB_VERSION } from '../../src/storage/schema';
import { listSessions, loadTrackAudio } from '../../src/storage/sessions';
import type {} from '../../src/features/tournament/vote-store';
import type {} from '../../src/features/podcast/podcast-store';
import { upgradeV1, V1_KICK, V1_SESSION, writeV1Database } from './storage-v1-fixture';

/** Version 2's upgrade, verbatim (version 1's stores, then featureBlobs), so later changes to schema.ts cannot change it. */
function upgradeV2(db: IDBPDatabase): void {
  upgradeV1(db);
  db.createObjectStore('featureBlobs', { keyPath: 'key' }).createIndex('feature', 'feature');
}

const V2_BLOB = { key: 'podcast/episode', feature: 'podcast', id: 'episode', label: 'Episode 7.mp3', blob: new Blob(['ID3…']), bytes: 4, meta: { episodeId: 'ep-7' }, savedAt: 1_700_000_000_000 };

async function writeV2Database(): Promise<void> {
  const db = await openDB(DB_NAME, 2, { upgrade: (d) => upgradeV2(d) });
  const tx = db.transaction(['sessions', 'trackAudio', 'kv', 'featureBlobs'], 'readwrite');
  await tx.objectStore('sessions').put(V1_SESSION);
  await tx.objectStore('trackAudio').put({ sessionId: 's1', trackId: 'kick', sampleRate: 44100, channels: [V1_KICK.buffer.slice(0)], bytes: V1_KICK.byteLength });
  await tx.objectStore('kv').put('s1', 'currentSessionId');
  await tx.objectStore('kv').put('client-7', 'tournament.clientId');
  await tx.objectStore('featureBlobs').put(V2_BLOB);
  await tx.done;
  db.close();
}

beforeEach(async () => {
  await closeDb();
  await deleteDB(DB_NAME);
});
afterEach(async () => {
  vi.restoreAllMocks();
  await closeDb();
});

describe('upgrade to storage version 3 (metricEvents)', () => {
  it('a version 2 database keeps every record and gains an empty metricEvents store indexed by time', async () => {
    await writeV2Database();
    const db = await openDb();
    expect(DB_VERSION).toBe(3);
    expect(db.version).toBe(3);
    expect([...db.objectStoreNames]).toContain('metricEvents');
    expect([...db.transaction('metricEvents').store.indexNames]).toEqual(['ts']);

    expect(await listSessions()).toEqual([V1_SESSION]);
    expect((await loadTrackAudio('s1', 'kick'))?.channels).toEqual([V1_KICK]);
    expect(await kvGet('currentSessionId')).toBe('s1');
    expect(await kvGet('tournament.clientId')).toBe('client-7');
    expect(await (await getFeatureBlob('podcast', 'episode'))!.blob.text()).toBe('ID3…');
    expect(await countMetricEvents()).toBe(0);

    // Appended out of time order, read back in it.
    await appendMetricEvents([{ ts: 30, type: 'x' }, { ts: 10, type: 'y' }, { ts: 20, type: 'z' }], { maxEvents: 10, maxAgeMs: 1e12 }, { now: 40 });
    expect((await listMetricEvents()).map((e) => e.ts)).toEqual([10, 20, 30]);
  });

  it('a version 1 database is migrated through version 2 to 3 in one open', async () => {
    await writeV1Database();
    expect((await openDb()).version).toBe(3);
    expect(await kvGet('tournament.clientId')).toBe('client-123');
    expect(await countMetricEvents()).toBe(0);
  });

  it('a failing version 3 step rolls back to version 2 as it was, and says so', async () => {
    await writeV2Database();
    const create = IDBDatabase.prototype.createObjectStore;
    vi.spyOn(IDBDatabase.prototype, 'createObjectStore').mockImplementation(function (this: IDBDatabase, ...args: Parameters<IDBDatabase['createObjectStore']>) {
      if (args[0] === 'metricEvents') throw new DOMException('disk error', 'UnknownError');
      return create.apply(this, args);
    });
    const opening = openDb();
    await expect(opening).rejects.toBeInstanceOf(UpgradeFailedError);
    await expect(opening).rejects.toThrow('from storage version 2 to 3 failed (disk error)');
    vi.restoreAllMocks();
    const raw = await openDB(DB_NAME);
    expect(raw.version).toBe(2);
    expect([...raw.objectStoreNames]).not.toContain('metricEvents');
    expect(await raw.get('kv', 'tournament.clientId')).toBe('client-7');
    raw.close();
    expect(await countMetricEvents()).toBe(0);
  });
});
