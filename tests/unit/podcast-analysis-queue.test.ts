// The analysis workers' shared chunk queue, the model load overlapping the first decode, the page's downmix
// and the overview's time ruler: pure parts of the analysis pipeline, tested without a browser.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { analyseClaimed, chunkQueue, planChunks, type ChunkSpec, type DecodedChunk } from '../../src/features/podcast/analyse';
import { ANALYSIS_RATE } from '../../src/features/podcast/features';
import type { VadModel } from '../../models/silero-vad/runner';
import { downmixToMono, pageSliceDecoder } from '../../src/features/podcast/page-decode';
import { MAX_LABELS, rulerTicks } from '../../src/shared/ruler-ticks';

/** A model that is never consulted: the test chunks are silent, so the VAD sends nothing to it. */
const silentModel: VadModel = {
  run: () => Promise.reject(new Error('silence must not reach the model')),
};

function silentDecode(log: string[], delayMs = 0): (chunk: ChunkSpec) => Promise<DecodedChunk> {
  return async (chunk) => {
    log.push(`decode ${chunk.index}`);
    await new Promise((r) => setTimeout(r, delayMs));
    return { chunk, x16: new Float32Array(Math.round((chunk.endS - chunk.startS) * ANALYSIS_RATE)), warnings: [], decoder: 'ffmpeg', decodeS: 0 };
  };
}

describe('analysis chunk queue', () => {
  it('hands out every chunk once, in order, to whichever worker asks', async () => {
    const chunks = planChunks(120, 10);
    const take = chunkQueue(chunks);
    const claim = async () => take();
    const logs: string[][] = [[], []];
    // Worker 0 decodes slowly; worker 1 is quick and so takes more of the queue.
    const ready = Promise.resolve({ model: silentModel, transforms: {} });
    const [a, b] = await Promise.all([analyseClaimed(claim, silentDecode(logs[0], 30), ready), analyseClaimed(claim, silentDecode(logs[1], 1), ready)]);
    const indices = [...a, ...b].map((c) => c.index).sort((x, y) => x - y);
    expect(indices).toEqual(chunks.map((c) => c.index));
    expect(b.length).toBeGreaterThan(a.length);
    for (const list of [a, b]) expect(list.map((c) => c.index)).toEqual([...list.map((c) => c.index)].sort((x, y) => x - y));
  });

  it('stops handing out chunks once the job is cancelled', () => {
    const ctrl = new AbortController();
    const take = chunkQueue(planChunks(60, 10), ctrl.signal);
    expect(take()?.index).toBe(0);
    ctrl.abort();
    expect(take()).toBeNull();
  });

  it('starts the first decode before the model has loaded', async () => {
    const log: string[] = [];
    let loaded!: () => void;
    const ready = new Promise<{ model: VadModel; transforms: object }>((r) => (loaded = () => r({ model: silentModel, transforms: {} })));
    const take = chunkQueue(planChunks(20, 10));
    const run = analyseClaimed(async () => take(), silentDecode(log), ready);
    await new Promise((r) => setTimeout(r, 10));
    expect(log).toEqual(['decode 0']);
    log.push('model loaded');
    loaded();
    const out = await run;
    expect(out.map((c) => c.index)).toEqual([0, 1]);
    expect(log).toEqual(['decode 0', 'model loaded', 'decode 1']);
  });

  it('starts decoding the next chunk as it begins analysing the current one', async () => {
    const log: string[] = [];
    const take = chunkQueue(planChunks(30, 10));
    const ready = Promise.resolve({ model: silentModel, transforms: {} });
    const out = await analyseClaimed(async () => take(), silentDecode(log, 5), ready, (a) => log.push(`analysed ${a.index}`));
    expect(out.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(log).toEqual(['decode 0', 'decode 1', 'analysed 0', 'decode 2', 'analysed 1', 'analysed 2']);
  });

  it('a failed decode of a prefetched chunk fails the analysis after the current chunk', async () => {
    const take = chunkQueue(planChunks(30, 10));
    const ready = Promise.resolve({ model: silentModel, transforms: {} });
    const good = silentDecode([]);
    const decode = (chunk: ChunkSpec) => (chunk.index === 1 ? Promise.reject(new Error('chunk 1 is damaged')) : good(chunk));
    const analysed: number[] = [];
    await expect(analyseClaimed(async () => take(), decode, ready, (a) => analysed.push(a.index))).rejects.toThrow('chunk 1 is damaged');
    expect(analysed).toEqual([0]);
  });

  it('a failed model load fails the analysis', async () => {
    const take = chunkQueue(planChunks(20, 10));
    await expect(analyseClaimed(async () => take(), silentDecode([]), Promise.reject(new Error('no model')))).rejects.toThrow('no model');
  });
});

/** The downmix it replaces: accumulate each channel into a Float32Array, then scale. */
function referenceDownmix(channels: Float32Array[]): Float32Array {
  const mono = new Float32Array(channels[0].length);
  for (const x of channels) for (let i = 0; i < x.length; i++) mono[i] += x[i];
  const n = channels.length;
  const w = n === 2 ? Math.SQRT1_2 : 1 / n;
  if (n > 1) for (let i = 0; i < mono.length; i++) mono[i] *= w;
  return mono;
}

function fakeBuffer(channels: Float32Array<ArrayBuffer>[]) {
  return {
    numberOfChannels: channels.length,
    length: channels[0].length,
    getChannelData: (c: number) => channels[c],
    copyFromChannel: (dest: Float32Array, c: number) => dest.set(channels[c].subarray(0, dest.length)),
  };
}

describe('page slice decoder', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('decodes at most two slices at once, however many the workers ask for ahead', async () => {
    let inFlight = 0;
    let most = 0;
    const sizes: number[] = [];
    vi.stubGlobal(
      'OfflineAudioContext',
      class {
        async decodeAudioData(bytes: ArrayBuffer) {
          inFlight++;
          most = Math.max(most, inFlight);
          sizes.push(bytes.byteLength);
          await new Promise((r) => setTimeout(r, 10));
          inFlight--;
          const x = new Float32Array(bytes.byteLength);
          return { numberOfChannels: 1, length: x.length, getChannelData: () => x, copyFromChannel: (d: Float32Array) => d.set(x.subarray(0, d.length)) };
        }
      },
    );
    const decode = pageSliceDecoder(new Blob([new Uint8Array(1000)]));
    const out = await Promise.all([0, 1, 2, 3, 4].map((k) => decode(k * 100, k * 100 + 50 + k, 16000, 1)));
    expect(most).toBe(2);
    expect(out.map((c) => c[0].length)).toEqual([50, 51, 52, 53, 54]);
    expect(sizes.sort()).toEqual([50, 51, 52, 53, 54]);
  });

  it('frees its slot when a slice fails to decode', async () => {
    vi.stubGlobal(
      'OfflineAudioContext',
      class {
        decodeAudioData(): Promise<never> {
          return Promise.reject(new Error('not audio'));
        }
      },
    );
    const decode = pageSliceDecoder(new Blob([new Uint8Array(10)]));
    for (let k = 0; k < 4; k++) await expect(decode(0, 10, 16000, 1)).rejects.toThrow('not audio');
  });
});

describe('page decoder downmix', () => {
  it.each([1, 2, 3, 6])('%i channels: the same samples, to the bit, as the accumulating downmix', (n) => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    const channels = Array.from({ length: n }, () => Float32Array.from({ length: 20_000 }, rand));
    const got = downmixToMono(fakeBuffer(channels));
    const want = referenceDownmix(channels);
    expect(got.length).toBe(want.length);
    let differ = 0;
    for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) differ++;
    expect(differ).toBe(0);
  });
});

describe('overview time ruler', () => {
  it.each([3, 30, 180, 599, 600, 3599, 3600, 3601, 3 * 3600, 3 * 3600 + 1, 10 * 3600])('%i s: at most MAX_LABELS labels and five notches per label', (d) => {
    const { labelS, notchS } = rulerTicks(d);
    expect(d / labelS).toBeLessThanOrEqual(MAX_LABELS);
    expect(labelS / notchS).toBe(5);
    // A round interval: whole minutes from a minute up.
    if (labelS >= 60) expect(labelS % 60).toBe(0);
  });

  it('keeps notches few enough to lay out (the plugin measures each as it adds it)', () => {
    for (let d = 1; d <= 3 * 3600; d += 37) {
      const { notchS } = rulerTicks(d);
      expect(d / notchS).toBeLessThanOrEqual(5 * MAX_LABELS);
    }
  });
});
