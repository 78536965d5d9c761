import 'fake-indexeddb/auto';
import { deleteDB } from 'idb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { closeDb, openDb } from '../../src/storage/db';
import { deleteExport, getExport, listExports, saveExport, type NewExport } from '../../src/storage/exports';
import { StorageFullError } from '../../src/storage/quota';
import { DB_NAME } from '../../src/storage/schema';

function encodedFile(bytes: number, seed: number): Blob {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (i * 31 + seed) & 0xff;
  return new Blob([data], { type: 'audio/mpeg' });
}

function newExport(sessionId: string, name: string, blob: Blob, createdAt?: number): NewExport {
  return { sessionId, name, format: 'mp3', mime: 'audio/mpeg', blob, lufs: -14.1, truePeakDb: -1.2, createdAt };
}

function stubEstimate(quota: number, usage: number): void {
  vi.stubGlobal('navigator', { storage: { estimate: async () => ({ quota, usage }) } });
}

async function storedCount(): Promise<number> {
  return (await openDb()).count('exports');
}

beforeEach(async () => {
  await closeDb();
  await deleteDB(DB_NAME);
});

afterEach(async () => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  await closeDb();
});

describe('exports', () => {
  it('saves, lists newest first per session, reads back the blob and deletes', async () => {
    stubEstimate(10e9, 1e6);
    const first = await saveExport(newExport('s1', 'Song A.mp3', encodedFile(5000, 1), 1000));
    const second = await saveExport(newExport('s1', 'Song A (louder).mp3', encodedFile(7000, 2), 2000));
    const other = await saveExport(newExport('s2', 'Song B.mp3', encodedFile(300, 3), 1500));
    expect(first.id).not.toBe(second.id);
    expect(first.bytes).toBe(5000);

    await closeDb(); // read through a fresh connection, not a cached object
    expect((await listExports('s1')).map((x) => x.id)).toEqual([second.id, first.id]);
    expect((await listExports()).map((x) => x.id)).toEqual([second.id, other.id, first.id]);

    const back = await getExport(first.id);
    expect(back).toMatchObject({ sessionId: 's1', name: 'Song A.mp3', format: 'mp3', mime: 'audio/mpeg', bytes: 5000, lufs: -14.1, truePeakDb: -1.2 });
    const bytes = new Uint8Array(await back!.blob.arrayBuffer());
    expect(bytes).toEqual(new Uint8Array(await encodedFile(5000, 1).arrayBuffer()));

    await deleteExport(first.id);
    expect(await getExport(first.id)).toBeUndefined();
    expect((await listExports('s1')).map((x) => x.id)).toEqual([second.id]);
  });

  it('refuses an export larger than the storage left, names it and its size, and writes nothing', async () => {
    stubEstimate(100e6, 100e6 - 12e6); // 12.0 MB left
    const blob = encodedFile(20e6, 4);
    const put = vi.spyOn(IDBObjectStore.prototype, 'add');

    const saving = saveExport(newExport('s1', 'Master.wav', blob));
    await expect(saving).rejects.toBeInstanceOf(StorageFullError);
    await expect(saving).rejects.toThrow('Master.wav (20.0 MB) does not fit in the browser storage left (12.0 MB).');
    expect(put).not.toHaveBeenCalled();
    expect(await storedCount()).toBe(0);
  });

  it('keeps the 5% margin: a blob that only just fits the reported free space is refused', async () => {
    stubEstimate(100e6, 100e6 - 10.2e6);
    await expect(saveExport(newExport('s1', 'Tight.mp3', encodedFile(10e6, 5)))).rejects.toBeInstanceOf(StorageFullError);
    stubEstimate(100e6, 100e6 - 10.6e6);
    await expect(saveExport(newExport('s1', 'Fits.mp3', encodedFile(10e6, 5)))).resolves.toMatchObject({ name: 'Fits.mp3' });
    expect(await storedCount()).toBe(1);
  });

  it('saves without a pre-check where the browser gives no estimate', async () => {
    vi.stubGlobal('navigator', {});
    await expect(saveExport(newExport('s1', 'No estimate.mp3', encodedFile(100, 6)))).resolves.toMatchObject({ bytes: 100 });
  });

  it('a quota failure while committing leaves nothing stored and reports StorageFullError', async () => {
    stubEstimate(10e9, 0); // the estimate says it fits; the disk disagrees at commit time, as Chrome reports it
    const add = IDBObjectStore.prototype.add;
    vi.spyOn(IDBObjectStore.prototype, 'add').mockImplementation(function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['add']>) {
      const request = add.apply(this, args);
      const tx = this.transaction as IDBTransaction & { _abort(name: string): void };
      // The record is staged by now; the abort must roll it back.
      request.addEventListener('success', () => tx._abort('QuotaExceededError'));
      return request;
    });

    const saving = saveExport(newExport('s1', 'Too big.flac', encodedFile(4096, 7)));
    await expect(saving).rejects.toBeInstanceOf(StorageFullError);
    await expect(saving).rejects.toMatchObject({ cause: expect.objectContaining({ name: 'QuotaExceededError' }) });

    vi.restoreAllMocks();
    await closeDb();
    expect(await storedCount()).toBe(0);
    expect(await listExports('s1')).toEqual([]);
    // The failed transaction left the database usable.
    await expect(saveExport(newExport('s1', 'Small.mp3', encodedFile(10, 8)))).resolves.toMatchObject({ bytes: 10 });
    expect(await storedCount()).toBe(1);
  });
});
