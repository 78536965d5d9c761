// The mastering desk's orchestration in Node: the session rendered by the real render workers, mastered there, encoded
// (Debian's ffmpeg standing in for the ffmpeg.wasm core behind the export handle), decoded back, measured, corrected
// until the file itself is in spec, stored, and offered as an A/B against the unmastered mix.
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MasteringDesk } from '../../src/features/mastering';
import { listExports } from '../../src/storage/exports';
import { closeDb } from '../../src/storage/db';
import { freshApp, testStudio } from './state-harness';

const RATE = 44100;

/** A dense, transient-rich part: decaying noise bursts and a chord, `seconds` long. */
function part(seconds: number, seed: number, amp: number): Float32Array[] {
  let x = seed;
  const n = seconds * RATE;
  const l = new Float32Array(n);
  const r = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    const burst = Math.exp(-((i % 11025) / 1500)) * ((x / 2 ** 32) * 2 - 1);
    const chord = Math.sin((2 * Math.PI * 220 * i) / RATE) + 0.7 * Math.sin((2 * Math.PI * 277 * i) / RATE);
    l[i] = amp * (0.8 * burst + 0.3 * chord);
    r[i] = amp * (0.6 * burst + 0.35 * chord);
  }
  return [l, r];
}

beforeEach(freshApp);
afterEach(() => closeDb());

describe('MasteringDesk (state)', () => {
  it('exports an MP3 in two halves whose file measures on target under the ceiling, stores it, and sets up the A/B', async () => {
    const { studio, started } = testStudio();
    await studio.addAudio(
      [
        { name: 'drums', channels: part(24, 1, 0.4), sampleRate: RATE },
        { name: 'keys', channels: part(24, 7, 0.2), sampleRate: RATE },
      ],
      { sessionName: 'Mastering test' },
    );
    const desk = new MasteringDesk(studio);
    await desk.load();
    desk.format = 'mp3';
    const rec = await desk.exportMaster();
    expect(studio.notices.filter((n) => n.level === 'error')).toEqual([]);
    expect(rec).not.toBeNull();
    const check = desk.fileCheck!;
    expect(check.withinSpec).toBe(true);
    expect(Math.abs(check.lufs - desk.settings.targetLufs)).toBeLessThanOrEqual(0.5);
    expect(check.truePeakDb).toBeLessThanOrEqual(desk.settings.ceilingDbtp);
    expect(check.passes.length).toBe(check.attempts);
    // 24 s is over the split length: both export workers encoded a half.
    expect(started.get('export')).toBe(2);
    const stored = await listExports(studio.session!.id);
    expect(stored.map((e) => e.name)).toEqual(['Mastering test.mp3']);
    expect(stored[0].lufs).toBeCloseTo(check.lufs, 6);
    expect(desk.abReady).toBe(true);
    desk.dispose();
    await studio.dispose();
  }, 120_000);

  it('a cancelled export stores nothing and says so', async () => {
    const { studio } = testStudio();
    await studio.addAudio([{ name: 'drums', channels: part(4, 3, 0.4), sampleRate: RATE }], { sessionName: 'Cancel test' });
    const desk = new MasteringDesk(studio);
    await desk.load();
    desk.format = 'flac';
    const running = desk.exportMaster();
    desk.cancel();
    expect(await running).toBeNull();
    expect(await listExports(studio.session!.id)).toEqual([]);
    expect(studio.notices.some((n) => /cancel/i.test(n.message))).toBe(true);
    await studio.dispose();
  });
});
