// Typed kv and feature blobs: each key and feature has its own value type (checked by tsc -p tsconfig.node.json,
// the @ts-expect-error lines fail the check if a wrong type ever compiles), and the stores behave as their docs say.
import 'fake-indexeddb/auto';
import { deleteDB } from 'idb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { closeDb, openDb, writeAtomically } from '../../src/storage/db';
import { deleteFeatureBlob, getFeatureBlob, listFeatureBlobs, putFeatureBlob, writeFeatureData } from '../../src/storage/feature-blobs';
import { kvDelete, kvGet, kvGetMany, kvGetOrPut, kvPut, txKv } from '../../src/storage/kv';
import { StorageFullError, deleteStoredItem, storageUsage } from '../../src/storage/quota';
import { DB_NAME } from '../../src/storage/schema';
// Brings the keys these modules declare into this program, as the app's build does.
import type {} from '../../src/ml/model-runtime';
import { clearPodcast, loadPodcast, saveEpisode, type StoredEpisode } from '../../src/features/podcast/podcast-store';
import { saveExport } from '../../src/storage/exports';
import { getCachedModel, putCachedModel } from '../../src/storage/models';
import { putVoteRecord, listVoteRecords } from '../../src/storage/votes';

declare module '../../src/storage/feature-blobs' {
  interface FeatureBlobSchema {
    'test-clips': { prompt: string; seconds: number };
  }
}

beforeEach(async () => {
  await closeDb();
  await deleteDB(DB_NAME);
});

afterEach(async () => {
  await closeDb();
});

const check = { sha256: 'ab'.repeat(32), tolerance: 1e-3, result: { ep: 'wasm' as const, reason: 'no WebGPU adapter', maxAbsDiff: null, tolerance: 1e-3 } };

/** Never run: its body only has to type-check, or fail to where marked. */
async function typeLevel(): Promise<void> {
  const id: string | undefined = await kvGet('currentSessionId');
  const stored = await kvGet('ml.selfcheck.mixnet-int8');
  const ep: 'webgpu' | 'wasm' | undefined = stored?.result.ep;
  const episode: StoredEpisode | undefined = await kvGet('podcast.episode');
  void [id, ep, episode];
  // @ts-expect-error a session id is a string
  await kvPut('currentSessionId', 5);
  // @ts-expect-error no module declares this key
  await kvGet('no.such.key');
  // @ts-expect-error a self-check key holds a self-check record
  await kvPut('ml.selfcheck.mixnet-int8', 'passed');
  // @ts-expect-error the old, unnamespaced key is gone
  await kvGet('selfcheck:mixnet-int8');
  const db = await openDb();
  // @ts-expect-error the kv object store itself refuses a value no key declares
  await db.put('kv', 42, 'currentSessionId');
  // @ts-expect-error a feature's meta has that feature's type
  await putFeatureBlob('test-clips', { id: 'a', label: 'a', blob: new Blob([]), meta: { prompt: 'x', seconds: '3' } });
  // @ts-expect-error no module declares this feature
  await putFeatureBlob('no-such-feature', { id: 'a', label: 'a', blob: new Blob([]), meta: {} });
  const [sessionId, selfCheck] = await kvGetMany(['currentSessionId', 'ml.selfcheck.x'] as const);
  // @ts-expect-error the tuple keeps each key's own type
  const wrong: number | undefined = sessionId;
  void [wrong, selfCheck?.sha256];
  const tx = db.transaction('kv', 'readonly');
  // @ts-expect-error a readonly transaction's kv has no put
  await txKv(tx.objectStore('kv')).put('currentSessionId', 'x');
}
void typeLevel;

describe('typed kv', () => {
  it('puts, reads and deletes each key with its own type', async () => {
    expect(await kvGet('currentSessionId')).toBeUndefined();
    await kvPut('currentSessionId', 's1');
    await kvPut('ml.selfcheck.mixnet-int8', check);
    await closeDb();
    expect(await kvGet('currentSessionId')).toBe('s1');
    expect(await kvGet('ml.selfcheck.mixnet-int8')).toEqual(check);
    expect(await kvGetMany(['currentSessionId', 'ml.selfcheck.other', 'ml.selfcheck.mixnet-int8'])).toEqual(['s1', undefined, check]);
    await kvDelete('currentSessionId');
    expect(await kvGet('currentSessionId')).toBeUndefined();
  });

  it('kvGetOrPut creates a value once, and replaces one its check rejects', async () => {
    expect(await kvGetOrPut('currentSessionId', () => 'made')).toBe('made');
    expect(await kvGetOrPut('currentSessionId', () => 'again')).toBe('made');
    expect(await kvGetOrPut('currentSessionId', () => 'valid', (v) => v !== 'made')).toBe('valid');
    expect(await kvGet('currentSessionId')).toBe('valid');
  });

  it('txKv writes within the transaction: a throw after the write leaves nothing', async () => {
    await kvPut('currentSessionId', 'before');
    const failed = writeAtomically(['kv'], async (tx) => {
      const kv = txKv(tx.objectStore('kv'));
      expect(await kv.get('currentSessionId')).toBe('before');
      await kv.put('currentSessionId', 'after');
      throw new Error('boom');
    });
    await expect(failed).rejects.toThrow('boom');
    expect(await kvGet('currentSessionId')).toBe('before');
  });
});

describe('feature blobs', () => {
  const clip = (id: string, text: string, savedAt: number) => ({ id, label: `clip ${id}`, blob: new Blob([text]), meta: { prompt: `prompt ${id}`, seconds: 3 }, savedAt });

  it('stores, lists newest first by feature, replaces by id, and deletes', async () => {
    await putFeatureBlob('test-clips', clip('a', 'aaaa', 1));
    const b = await putFeatureBlob('test-clips', clip('b', 'bb', 2));
    expect(b).toMatchObject({ feature: 'test-clips', id: 'b', bytes: 2, meta: { prompt: 'prompt b', seconds: 3 } });
    await closeDb();
    expect((await listFeatureBlobs('test-clips')).map((x) => x.id)).toEqual(['b', 'a']);
    const a = await getFeatureBlob('test-clips', 'a');
    expect(await a?.blob.text()).toBe('aaaa');
    await putFeatureBlob('test-clips', clip('a', 'replaced', 3));
    expect((await listFeatureBlobs('test-clips')).map((x) => [x.id, x.bytes])).toEqual([
      ['a', 8],
      ['b', 2],
    ]);
    await deleteFeatureBlob('test-clips', 'b');
    expect(await getFeatureBlob('test-clips', 'b')).toBeUndefined();
    expect(await listFeatureBlobs('test-clips')).toHaveLength(1);
  });

  it('writes a result and its kv entry in one transaction', async () => {
    const failed = writeFeatureData(async ({ kv, blobs }) => {
      await blobs.put('test-clips', clip('c', 'cc', 4));
      await kv.put('currentSessionId', 'x');
      throw new Error('later step failed');
    });
    await expect(failed).rejects.toThrow('later step failed');
    expect(await getFeatureBlob('test-clips', 'c')).toBeUndefined();
    expect(await kvGet('currentSessionId')).toBeUndefined();

    await writeFeatureData(async ({ kv, blobs }) => {
      await blobs.put('test-clips', clip('c', 'cc', 4));
      expect((await blobs.get('test-clips', 'c'))?.meta.prompt).toBe('prompt c');
      await kv.put('currentSessionId', 'x');
    });
    expect(await getFeatureBlob('test-clips', 'c')).toMatchObject({ bytes: 2 });
    expect(await kvGet('currentSessionId')).toBe('x');
  });

  it('appears in storageUsage and deleteStoredItem removes it', async () => {
    await putFeatureBlob('test-clips', clip('big', 'x'.repeat(5000), 1));
    const { items } = await storageUsage();
    const item = items.find((i) => i.kind === 'feature');
    expect(item).toEqual({ kind: 'feature', id: 'test-clips/big', label: 'test-clips: clip big', bytes: 5000, feature: 'test-clips' });
    await deleteStoredItem('feature', item!.id);
    expect(await getFeatureBlob('test-clips', 'big')).toBeUndefined();
    expect((await storageUsage()).items.filter((i) => i.kind === 'feature')).toEqual([]);
  });

  it('a full disk rejects with StorageFullError and stores nothing', async () => {
    const put = IDBObjectStore.prototype.put;
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      const request = put.apply(this, args);
      const tx = this.transaction as IDBTransaction & { _abort(name: string): void };
      // As Chrome reports a full disk: the record is staged, then the commit fails.
      request.addEventListener('success', () => tx._abort('QuotaExceededError'));
      return request;
    });
    try {
      await expect(putFeatureBlob('test-clips', clip('full', 'data', 1))).rejects.toBeInstanceOf(StorageFullError);
    } finally {
      vi.restoreAllMocks();
    }
    await closeDb();
    expect(await getFeatureBlob('test-clips', 'full')).toBeUndefined();
    await expect(putFeatureBlob('test-clips', clip('small', 'ok', 2))).resolves.toMatchObject({ bytes: 2 });
  });
});

describe('deleteStoredItem', () => {
  it('deletes an export, a cached model, or all votes, as the Storage dialog lists them', async () => {
    vi.stubGlobal('navigator', {});
    try {
      const x = await saveExport({ sessionId: 's1', name: 'Mix.wav', format: 'wav', mime: 'audio/wav', blob: new Blob(['RIFF']) });
      await putCachedModel({ id: 'mixnet-int8', version: '1', sha256: 'ab', bytes: 3, data: new Uint8Array([1, 2, 3]).buffer, fetchedAt: 1 });
      await putVoteRecord({ id: 'v1', ts: 1 });
      await putVoteRecord({ id: 'v2', ts: 2 });
      const kinds = (await storageUsage()).items.map((i) => [i.kind, i.id]);
      expect(kinds).toEqual(expect.arrayContaining([['export', x.id], ['model', 'mixnet-int8'], ['votes', 'votes']]));

      await deleteStoredItem('export', x.id);
      await deleteStoredItem('model', 'mixnet-int8');
      await deleteStoredItem('votes', 'votes');
      expect((await storageUsage()).items).toEqual([]);
      expect(await getCachedModel('mixnet-int8')).toBeUndefined();
      expect(await listVoteRecords()).toEqual([]);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe('podcast episode storage', () => {
  const episode: StoredEpisode = {
    version: 1,
    id: 'ep-1',
    name: 'Pilot.mp3',
    size: 4,
    lastModified: 1,
    type: 'audio/mpeg',
    source: { kind: 'ffmpeg', codec: 'mp3', durationS: 1, sampleRate: 44100, channels: 1 },
    warnings: [],
    savedAt: 5,
  };

  it('keeps the file as a feature blob the Storage dialog lists, and clearPodcast removes it all', async () => {
    await saveEpisode(episode, new Blob(['ID3!']));
    expect((await storageUsage()).items).toEqual([{ kind: 'feature', id: 'podcast/episode', label: 'podcast: Pilot.mp3', bytes: 4, feature: 'podcast' }]);
    await closeDb();
    const restored = await loadPodcast();
    expect(restored?.episode).toEqual(episode);
    expect(await restored!.file.text()).toBe('ID3!');
    await clearPodcast();
    expect(await loadPodcast()).toBeNull();
    expect(await getFeatureBlob('podcast', 'episode')).toBeUndefined();
    expect(await kvGet('podcast.episode')).toBeUndefined();
  });

  it('after the user deletes the file in Storage, no half episode is restored', async () => {
    await saveEpisode(episode, new Blob(['ID3!']));
    await deleteStoredItem('feature', 'podcast/episode');
    expect(await loadPodcast()).toBeNull();
  });
});
