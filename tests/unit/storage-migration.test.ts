// Opening a database written by version 1 of the app: every record arrives migrated and readable through
// today's typed API; a database newer than the app, or a migration that fails, gives a clear error and changes nothing.
import 'fake-indexeddb/auto';
import { deleteDB, openDB } from 'idb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { closeDb, NewerDatabaseError, openDb, UpgradeFailedError } from '../../src/storage/db';
import { getExport, listExports } from '../../src/storage/exports';
import { getFeatureBlob, listFeatureBlobs } from '../../src/storage/feature-blobs';
import { kvGet } from '../../src/storage/kv';
import { getCachedModel } from '../../src/storage/models';
import { storageUsage } from '../../src/storage/quota';
import { DB_NAME, DB_VERSION } from '../../src/storage/schema';
import { getCurrentSessionId, listSessions, loadSession, loadStoredChannels, loadTrackAudio } from '../../src/storage/sessions';
import { loadPodcast, saveEpisode } from '../../src/features/podcast/podcast-store';
import { listVotes, localClientId } from '../../src/features/tournament/vote-store';
import type {} from '../../src/features/tournament/vote-sync.svelte';
import type {} from '../../src/features/tournament/tournament.svelte';
import type {} from '../../src/ml/model-runtime';
import { V1_EPISODE, V1_EPISODE_BYTES, V1_KICK, V1_PAD_I16, V1_SELF_CHECK, V1_SESSION, V1_SYNC_SETTINGS, V1_TOURNAMENT, V1_VOTES, v1Analysis, writeV1Database } from './storage-v1-fixture';

beforeEach(async () => {
  await closeDb();
  await deleteDB(DB_NAME);
});

afterEach(async () => {
  vi.restoreAllMocks();
  await closeDb();
});

/** Every kv key as stored, read without the typed API. */
async function rawKvKeys(): Promise<string[]> {
  return (await (await openDb()).getAllKeys('kv')).map(String).sort();
}

describe('upgrade from storage version 1', () => {
  it('keeps sessions, audio, exports, models and votes as they were', async () => {
    await writeV1Database();
    expect(DB_VERSION).toBe(2);
    expect((await openDb()).version).toBe(DB_VERSION);

    expect(await listSessions()).toEqual([V1_SESSION]);
    const session = await loadSession('s1');
    expect(session?.tracks[0].peaks).toBeInstanceOf(Float32Array);
    expect(session?.mix.tracks.kick.gainDb).toBe(-3);
    expect(await getCurrentSessionId()).toBe('s1');

    // A float32 record without 'encoding' and a 16-bit record with Blob channels both read back sample-exact.
    expect((await loadTrackAudio('s1', 'kick'))?.channels).toEqual([V1_KICK]);
    const pad = await loadStoredChannels('s1', 'pad');
    expect(pad?.channels).toEqual({ encoding: 'i16', data: V1_PAD_I16 });

    expect((await listExports('s1')).map((x) => x.name)).toEqual(['Band rehearsal.wav']);
    expect(await (await getExport('x1'))!.blob.text()).toBe('RIFF……WAV');
    expect((await listExports('podcast:ep-42')).map((x) => x.id)).toEqual(['x2']);
    expect((await getCachedModel('mixnet-int8'))?.data.byteLength).toBe(8);

    expect(await listVotes()).toEqual(V1_VOTES.map((v) => ({ ...v, synced: v.synced === true })));
  });

  it('renames the kv keys into their owners\' namespaces, values unchanged', async () => {
    await writeV1Database();
    expect(await rawKvKeys()).toEqual(
      [
        'currentSessionId',
        'ml.selfcheck.mixnet-float32',
        'ml.selfcheck.mixnet-int8',
        'podcast.analysis',
        'podcast.episode',
        'podcast.reel',
        'tournament.clientId',
        'tournament.state',
        'tournament.sync',
      ].sort(),
    );
    // The same browser keeps its voter id, so its votes stay one voter's.
    expect(await localClientId()).toBe('client-123');
    expect(await kvGet('tournament.sync')).toEqual(V1_SYNC_SETTINGS);
    expect(await kvGet('tournament.state')).toEqual(V1_TOURNAMENT);
    expect(await kvGet('ml.selfcheck.mixnet-int8')).toEqual(V1_SELF_CHECK);
    expect((await kvGet('ml.selfcheck.mixnet-float32'))?.result).toMatchObject({ ep: 'wasm', reason: 'WebGPU disagreed' });
  });

  it('moves the podcast episode file to featureBlobs, where Storage lists it, and restores the episode', async () => {
    await writeV1Database();
    const restored = await loadPodcast();
    expect(restored?.episode).toEqual(V1_EPISODE);
    expect(await restored!.file.text()).toBe(V1_EPISODE_BYTES);
    expect(restored!.file.type).toBe('audio/mpeg');
    // The analysis is the one stored (typed arrays intact), not redone.
    expect(restored?.analysis?.analysis.levelDb).toEqual(v1Analysis().levelDb);
    expect(restored?.analysis?.structure.segments.length).toBeGreaterThan(0);
    expect(restored?.reel?.plan?.clips.length).toBeGreaterThan(0);
    expect(await restored!.reel!.intro!.blob.text()).toBe('RIFFjingle');

    expect(await getFeatureBlob('podcast', 'episode')).toMatchObject({ feature: 'podcast', label: 'Episode 42.mp3', bytes: V1_EPISODE_BYTES.length, meta: { episodeId: 'ep-42' }, savedAt: V1_EPISODE.savedAt });
    expect(await listFeatureBlobs('podcast')).toHaveLength(1);
    const { items } = await storageUsage();
    expect(items.map((i) => [i.kind, i.id, i.label])).toEqual(
      expect.arrayContaining([
        ['session', 's1', 'Band rehearsal'],
        ['export', 'x1', 'Band rehearsal.wav'],
        ['model', 'mixnet-int8', 'mixnet-int8'],
        ['votes', 'votes', '2 tournament votes'],
        ['feature', 'podcast/episode', 'podcast: Episode 42.mp3'],
      ]),
    );
  });

  it('a podcast file saved by another episode is not restored with this one', async () => {
    await writeV1Database();
    await saveEpisode({ ...V1_EPISODE, id: 'ep-43', name: 'Episode 43.mp3' }, new Blob(['new']));
    expect((await loadPodcast())?.episode.id).toBe('ep-43');
    expect(await (await loadPodcast())!.file.text()).toBe('new');
    // The new episode dropped the old one's analysis and reel.
    expect((await loadPodcast())?.analysis).toBeNull();
  });

  it('opening a database of a newer version says so, and leaves it untouched', async () => {
    const newer = await openDB(DB_NAME, DB_VERSION + 1, { upgrade: (db) => void db.createObjectStore('future') });
    newer.close();
    const opening = openDb();
    await expect(opening).rejects.toBeInstanceOf(NewerDatabaseError);
    await expect(opening).rejects.toThrow(`storage version ${DB_VERSION + 1}; this page reads up to ${DB_VERSION}`);
    const after = await openDB(DB_NAME);
    expect([after.version, [...after.objectStoreNames]]).toEqual([DB_VERSION + 1, ['future']]);
    after.close();
  });

  it('a migration that fails rolls back: the version 1 data stays and the error says what failed', async () => {
    await writeV1Database();
    const put = IDBObjectStore.prototype.put;
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      if (this.name === 'featureBlobs') throw new DOMException('disk error', 'UnknownError');
      return put.apply(this, args);
    });
    const opening = openDb();
    await expect(opening).rejects.toBeInstanceOf(UpgradeFailedError);
    await expect(opening).rejects.toThrow('from storage version 1 to 2 failed (disk error)');
    vi.restoreAllMocks();

    const raw = await openDB(DB_NAME);
    expect(raw.version).toBe(1);
    expect([...raw.objectStoreNames]).not.toContain('featureBlobs');
    expect(await raw.get('kv', 'clientId')).toBe('client-123');
    expect(await raw.get('kv', 'podcast:file')).toBeInstanceOf(Blob);
    raw.close();

    // Next time it works.
    expect(await kvGet('tournament.clientId')).toBe('client-123');
  });
});
