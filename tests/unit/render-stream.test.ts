// A render split across two workers, one streaming its track sum to the other, which adds its own and runs the
// master bus as the pieces arrive: the same samples as the two track sums rendered whole, then added and mastered.
import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import { deleteDB } from 'idb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadDspKernels, useDspKernels } from '../../src/dsp/kernels';
import { MixEngine, renderMasterOffline } from '../../src/dsp/mix-engine';
import { defaultMasterSettings, defaultTrackSettings, type MixSettings } from '../../src/shared/mix';
import type { SessionRecord, TrackMeta } from '../../src/shared/session';
import type { RenderResult, TrackSumPort } from '../../src/features/studio/contract';
import { closeDb } from '../../src/storage/db';
import { DB_NAME } from '../../src/storage/schema';
import { addTracks } from '../../src/storage/sessions';
import { renderMasterStreamed, renderMix } from '../../src/features/studio/worker/render-mix';

const RATE = 44100;
// Past three pieces of the stream (65 536 frames each) and not a multiple of one; one track is shorter.
const LENGTHS = [200_001, 200_001, 150_000, 200_001];
const IDS = ['kick', 'bass', 'pad', 'lead'];
const noProgress = () => undefined;

function meta(id: string, frames: number): TrackMeta {
  return { id, name: id, fileName: `${id}.wav`, channels: 2, length: frames, sourceRate: RATE, peaks: new Float32Array(0) };
}

/** Loud, seeded material, so the master limiter works hard in places and idles in others. */
function audio(k: number, frames: number): Float32Array[] {
  let seed = 97 + k;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  return [0, 1].map((c) =>
    Float32Array.from({ length: frames }, (_, i) => (Math.floor(i / 20_000) % 2 ? 0.7 : 0.1) * Math.sin((2 * Math.PI * (60 + 40 * k + c) * i) / RATE) + 0.05 * rand()),
  );
}

async function storeSession(mix: MixSettings): Promise<SessionRecord> {
  const tracks = IDS.map((id, k) => meta(id, LENGTHS[k]));
  const s: SessionRecord = { id: 's1', name: 'Stream', sampleRate: RATE, createdAt: 1, updatedAt: 1, tracks, mix, loop: { enabled: false, start: 0, end: 0 }, playhead: 0 };
  await addTracks(
    s,
    tracks.map((t, k) => ({ sessionId: 's1', trackId: t.id, sampleRate: RATE, channels: audio(k, t.length) })),
  );
  return s;
}

function defaultMix(): MixSettings {
  return { tracks: Object.fromEntries(IDS.map((id) => [id, defaultTrackSettings()])), master: { ...defaultMasterSettings(), gainDb: 0 } };
}

/** The streamed render: the second half's sum posted over a real MessageChannel to the first half's worker function. */
async function streamed(s: SessionRecord, own: string[], other: string[], peaksOnly = false): Promise<RenderResult> {
  const { port1, port2 } = new MessageChannel();
  const base = { sessionId: s.id, sampleRate: RATE, mix: s.mix };
  const end = Math.max(...LENGTHS);
  const mixed = renderMasterStreamed({ ...base, trackIds: own, endFrame: end, peaksOnly, from: port2 as unknown as TrackSumPort }, noProgress);
  const sent = await renderMix({ ...base, trackIds: other, part: 'tracks', endFrame: end, stream: port1 as unknown as TrackSumPort }, noProgress);
  expect(sent.left.length).toBe(0);
  return mixed;
}

/** What the split render did before it streamed: both sums whole, then the master bus over their sum. */
async function whole(s: SessionRecord, own: string[], other: string[]): Promise<RenderResult> {
  const base = { sessionId: s.id, sampleRate: RATE, mix: s.mix, part: 'tracks' as const, endFrame: Math.max(...LENGTHS) };
  const a = await renderMix({ ...base, trackIds: own }, noProgress);
  const b = await renderMix({ ...base, trackIds: other }, noProgress);
  const engine = new MixEngine(RATE);
  engine.setMix(s.mix);
  return { ...renderMasterOffline(engine, a.left, a.right, {}, { left: b.left, right: b.right }), sampleRate: RATE, peaks: new Float32Array(0), peakDb: 0, rmsDb: 0 };
}

function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

beforeEach(async () => {
  await closeDb();
  await deleteDB(DB_NAME);
});
afterEach(() => useDspKernels(null));

describe('a render streamed from one worker to the master bus of another', () => {
  const kernels = () => loadDspKernels(readFileSync(new URL('../../src/dsp/kernels.wasm', import.meta.url)));
  const cases: [string, (m: MixSettings) => void][] = [
    ['plain tracks and the limiter alone (summed and limited piece by piece)', () => undefined],
    ['a track with EQ (the pieces are gathered first)', (m) => void (m.tracks.kick.eq[0].gainDb = 6)],
    ['a master compressor (the pieces are gathered first)', (m) => void (m.master.comp = { ...m.master.comp, enabled: true, thresholdDb: -12 })],
    ['the limiter off', (m) => void (m.master.limiter = { ...m.master.limiter, enabled: false })],
  ];
  for (const withKernels of [true, false]) {
    for (const [name, edit] of cases) {
      it(`gives the samples of the whole sums: ${name}, ${withKernels ? 'on the kernels' : 'in TypeScript'}`, async () => {
        if (withKernels) useDspKernels(await kernels());
        const mix = defaultMix();
        edit(mix);
        const s = await storeSession(mix);
        const [own, other] = [['kick', 'pad'], ['bass', 'lead']];
        const got = await streamed(s, own, other);
        const want = await whole(s, own, other);
        expect(got.left.length).toBe(Math.max(...LENGTHS));
        expect(firstDifference(got.left, want.left)).toBe(-1);
        expect(firstDifference(got.right, want.right)).toBe(-1);
        // The limiter had work to do: the sum of four loud tracks passes its ceiling.
        if (mix.master.limiter.enabled) expect(got.peakDb).toBeLessThanOrEqual(-1 + 1e-6);
        else expect(got.peakDb).toBeGreaterThan(0);
      });
    }
  }

  it('works when the master bus worker has no tracks of its own, and gives only peaks when asked', async () => {
    useDspKernels(await kernels());
    const s = await storeSession(defaultMix());
    const got = await streamed(s, [], IDS);
    const want = await whole(s, [], IDS);
    expect(firstDifference(got.left, want.left)).toBe(-1);
    const peaks = await streamed(s, ['kick'], ['bass', 'pad', 'lead'], true);
    expect(peaks.left.length).toBe(0);
    expect(peaks.peaks.length).toBe(2 * Math.ceil(Math.max(...LENGTHS) / (RATE / 100)));
  });
});
