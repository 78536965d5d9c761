// The ORT seam, the model download/cache path and the self-check, against real files: the silero
// VAD that @ricky0123/vad-web ships, served by a local HTTP server.
import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deleteDB } from 'idb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fetchModelBytes, ModelIntegrityError, sha256Hex, type ModelFetchEvent } from '../../src/ml/model-fetch';
import { closeSessions, openSession, type TensorData } from '../../src/ml/ort';
import { maxOutputDifference, selfCheck } from '../../src/ml/self-check';
import { closeDb, openDb } from '../../src/storage/db';
import { DB_NAME } from '../../src/storage/schema';

const SILERO = new Uint8Array(readFileSync('node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx'));

function sileroFeeds(seed: number): Record<string, TensorData> {
  const input = new Float32Array(512);
  for (let i = 0; i < input.length; i++) input[i] = 0.3 * Math.sin((2 * Math.PI * 220 * i) / 16000 + seed);
  return {
    input: { type: 'float32', data: input, dims: [1, 512] },
    state: { type: 'float32', data: new Float32Array(2 * 128), dims: [2, 1, 128] },
    sr: { type: 'int64', data: BigInt64Array.from([16000n]), dims: [] },
  };
}

describe('ORT seam', () => {
  it('memoizes one session per key and provider, and runs real inference', async () => {
    let loads = 0;
    const load = async () => {
      loads++;
      return SILERO;
    };
    const [a, b] = await Promise.all([openSession('silero-test', load), openSession('silero-test', load)]);
    expect(a).toBe(b);
    expect(loads).toBe(1);
    expect(a.ep).toBe('wasm');
    expect(a.inputNames).toEqual(['input', 'state', 'sr']);
    const out = await a.run(sileroFeeds(0));
    expect(out.output.dims).toEqual([1, 1]);
    const p = out.output.data[0] as number;
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThanOrEqual(1);
    expect(out.stateN.dims).toEqual([2, 1, 128]);
    await closeSessions('silero-test');
    await openSession('silero-test', load);
    expect(loads).toBe(2);
    await closeSessions('silero-test');
  });

  it('chains concurrent runs on one session and keeps results apart', async () => {
    const s = await openSession('silero-chain', SILERO);
    const [x, y] = await Promise.all([s.run(sileroFeeds(0)), s.run(sileroFeeds(1.3))]);
    const again = await s.run(sileroFeeds(1.3));
    expect(maxOutputDifference(y, again)).toBe(0);
    expect(maxOutputDifference(x, y)).toBeGreaterThan(0);
    await closeSessions('silero-chain');
  });

  it('names the model when its bytes are not a model, and lets a later call retry', async () => {
    await expect(openSession('broken', new Uint8Array([1, 2, 3]))).rejects.toThrow(/Could not load model "broken" on WASM/);
    const s = await openSession('broken', SILERO);
    expect(s.outputNames).toContain('output');
    await closeSessions('broken');
  });
});

describe('self-check', () => {
  it('keeps WebGPU only when it agrees with WASM within tolerance', async () => {
    const wasm = await openSession('silero-check', SILERO);
    const feeds = sileroFeeds(0.5);
    // No adapter in Node: the result says so and picks WASM.
    expect((await selfCheck(wasm, null, feeds, 1e-3)).ep).toBe('wasm');
    // The same provider twice agrees exactly, so it is kept…
    const same = await selfCheck(wasm, wasm, feeds, 1e-3);
    expect(same).toMatchObject({ ep: 'webgpu', maxAbsDiff: 0, reason: null });
    // …and a negative tolerance forces the mismatch path, which falls back with a reason.
    const forced = await selfCheck(wasm, wasm, feeds, -1);
    expect(forced.ep).toBe('wasm');
    expect(forced.reason).toMatch(/differ from WASM/);
    const failed = await selfCheck(wasm, new Error('no shader'), feeds, 1e-3);
    expect(failed.reason).toMatch(/no shader/);
    await closeSessions('silero-check');
  });

  it('measures differences, and treats a shape mismatch as infinite', () => {
    const t = (v: number[], dims = [v.length]): Record<string, TensorData> => ({ o: { type: 'float32', data: Float32Array.from(v), dims } });
    expect(maxOutputDifference(t([1, 2, 3]), t([1, 2.5, 3]))).toBeCloseTo(0.5);
    expect(maxOutputDifference(t([1, 2]), t([1, 2, 3]))).toBe(Infinity);
    expect(maxOutputDifference(t([1, NaN]), t([1, 2]))).toBe(Infinity);
  });
});

describe('model download and cache', () => {
  let server: Server;
  let base = '';
  let hits = 0;
  let body = SILERO;
  let sha = '';

  beforeAll(async () => {
    sha = await sha256Hex(SILERO);
    server = createServer((req, res) => {
      hits++;
      if (req.url !== '/silero.onnx') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.byteLength) });
      res.end(Buffer.from(body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(async () => {
    await closeDb();
    await deleteDB(DB_NAME);
    hits = 0;
    body = SILERO;
  });

  const source = () => ({ id: 'silero', version: '5', url: `${base}/silero.onnx`, sha256: sha, sizeBytes: SILERO.byteLength });

  it('downloads with progress, caches, and serves the next load from the cache', async () => {
    const progress: number[] = [];
    const events: ModelFetchEvent['kind'][] = [];
    const bytes = await fetchModelBytes(source(), { onProgress: (p) => p.stage === 'download' && progress.push(p.loaded), onEvent: (e) => events.push(e.kind) });
    expect(await sha256Hex(bytes)).toBe(sha);
    expect(progress.at(-1)).toBe(SILERO.byteLength);
    expect(events).toEqual(['downloaded']);
    const again = await fetchModelBytes(source(), { onEvent: (e) => events.push(e.kind) });
    expect(again.byteLength).toBe(SILERO.byteLength);
    expect(hits).toBe(1);
    expect(events.at(-1)).toBe('cache-hit');
    // The cached bytes are a working model.
    const s = await openSession('silero-cached', again);
    expect(s.inputNames).toContain('state');
    await closeSessions('silero-cached');
  });

  it('detects a corrupted cache entry and fetches the file again', async () => {
    await fetchModelBytes(source());
    const db = await openDb();
    const rec = (await db.get('models', 'silero'))!;
    new Uint8Array(rec.data)[100] ^= 0xff;
    await db.put('models', rec);
    const events: ModelFetchEvent['kind'][] = [];
    const bytes = await fetchModelBytes(source(), { onEvent: (e) => events.push(e.kind) });
    expect(events).toEqual(['cache-corrupt', 'downloaded']);
    expect(hits).toBe(2);
    expect(await sha256Hex(bytes)).toBe(sha);
    expect(await sha256Hex(new Uint8Array((await db.get('models', 'silero'))!.data))).toBe(sha);
  });

  it('refuses a download whose hash is wrong and caches nothing', async () => {
    body = SILERO.slice(0, SILERO.byteLength - 10);
    await expect(fetchModelBytes(source())).rejects.toBeInstanceOf(ModelIntegrityError);
    expect(await (await openDb()).get('models', 'silero')).toBeUndefined();
  });

  it('names the model and the URL when the server fails', async () => {
    await expect(fetchModelBytes({ ...source(), url: `${base}/missing.onnx` })).rejects.toThrow(/"silero".*missing\.onnx.*404/);
    await expect(fetchModelBytes({ ...source(), url: 'http://127.0.0.1:9/x.onnx' })).rejects.toThrow(/network is unreachable/);
  });
});
