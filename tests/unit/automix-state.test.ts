// The auto-mix desk's orchestration in Node: features analysed by the real render workers (split over both), the
// model run by the real ml worker code, the proposal applied to the session, then undone; a cancel changes nothing.
import 'fake-indexeddb/auto';
import { deleteDB } from 'idb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Studio } from '../../src/features/studio';
import { AutoMixDesk } from '../../src/features/automix';
import { analysisWorkers, decodeWorkers, renderWorkers } from '../../src/features/studio/workers';
import { mlWorkers } from '../../src/features/automix/workers';
import { decodeWorker } from '../../src/features/studio/worker/decode';
import { renderWorker } from '../../src/features/studio/worker/render';
import { analysisWorker } from '../../src/features/studio/worker/analysis';
import { mlWorker } from '../../src/features/automix/worker/ml';
import { closeDb } from '../../src/storage/db';
import { DB_NAME } from '../../src/storage/schema';
import type { WorkerHandle } from '../../src/bridge/jobs';
import { harness, recordingEngineHost } from './state-harness';

const RATE = 44100;
const APIS = new Map<WorkerHandle<never>, object>([
  [decodeWorkers as WorkerHandle<never>, decodeWorker],
  [renderWorkers as WorkerHandle<never>, renderWorker],
  [analysisWorkers as WorkerHandle<never>, analysisWorker],
  [mlWorkers as WorkerHandle<never>, mlWorker],
]);

/** Two seconds of band-limited noise at `amp`, stereo, as app-made audio. */
function noise(amp: number, seed: number): Float32Array[] {
  let x = seed;
  const ch = Float32Array.from({ length: 2 * RATE }, () => {
    x = (x * 1103515245 + 12345) >>> 0;
    return amp * ((x / 2 ** 32) * 2 - 1);
  });
  return [ch, ch.slice()];
}

beforeEach(async () => {
  await closeDb();
  await deleteDB(DB_NAME);
});
afterEach(() => closeDb());

describe('AutoMixDesk (state)', () => {
  it('analyses on both render workers, applies the model’s faders, and undo puts them back', async () => {
    const { jobs, started } = harness(APIS);
    const studio = new Studio(jobs, { engineHost: recordingEngineHost().host });
    await studio.addAudio(
      [
        { name: 'loud', channels: noise(0.5, 1), sampleRate: RATE },
        { name: 'quiet', channels: noise(0.05, 2), sampleRate: RATE },
      ],
      { sessionName: 'Auto-mix test' },
    );
    const desk = new AutoMixDesk(studio);
    desk.modelId = 'equal-loudness';
    const before = gains(studio);
    const ok = await desk.run();
    expect(studio.notices.filter((n) => n.level === 'error')).toEqual([]);
    expect(ok).toBe(true);
    expect(started.get('render')).toBe(2);
    expect(started.get('ml')).toBe(1);
    const [loud, quiet] = studio.session!.tracks.map((t) => studio.session!.mix.tracks[t.id].gainDb);
    // Equal loudness: the 20 dB quieter track is brought up against the loud one.
    expect(quiet - loud).toBeGreaterThan(15);
    expect(desk.changes.map((c) => c.name).sort()).toEqual(['loud', 'quiet']);
    desk.undo();
    expect(studio.session!.tracks.map((t) => studio.session!.mix.tracks[t.id].gainDb)).toEqual(before);
    await studio.dispose();
  });

  it('a cancel while the tracks are analysed leaves the mix as it was and says so', async () => {
    const studio = new Studio(harness(APIS).jobs, { engineHost: recordingEngineHost().host });
    await studio.addAudio([{ name: 'a', channels: noise(0.3, 3), sampleRate: RATE }, { name: 'b', channels: noise(0.1, 4), sampleRate: RATE }], { sessionName: 'Cancel test' });
    const desk = new AutoMixDesk(studio);
    desk.modelId = 'equal-loudness';
    const before = JSON.stringify(studio.session!.mix);
    const running = desk.run();
    desk.cancel();
    expect(await running).toBe(false);
    expect(JSON.stringify(studio.session!.mix)).toBe(before);
    expect(studio.notices.at(-1)?.message).toBe('Auto-mix cancelled.');
    await studio.dispose();
  });
});

/** Each track's fader, in session order. */
function gains(studio: Studio): number[] {
  return studio.session!.tracks.map((t) => studio.session!.mix.tracks[t.id].gainDb);
}
