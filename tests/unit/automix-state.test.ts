// The auto-mix desk's orchestration in Node: features analysed by the real render workers (split over both), the
// model run by the real ml worker code, the proposal applied to the session, then undone; a cancel changes nothing.
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AutoMixDesk } from '../../src/features/automix';
import type { Studio } from '../../src/features/studio';
import { closeDb } from '../../src/storage/db';
import { freshApp, noise, testStudio } from './state-harness';

const RATE = 44100;


beforeEach(freshApp);
afterEach(() => closeDb());

describe('AutoMixDesk (state)', () => {
  it('analyses on both render workers, applies the model’s faders, and undo puts them back', async () => {
    const { studio, started } = testStudio();
    await studio.addAudio(
      [
        { name: 'loud', channels: noise(2, 0.5, 1), sampleRate: RATE },
        { name: 'quiet', channels: noise(2, 0.05, 2), sampleRate: RATE },
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
    const { studio } = testStudio();
    await studio.addAudio([{ name: 'a', channels: noise(2, 0.3, 3), sampleRate: RATE }, { name: 'b', channels: noise(2, 0.1, 4), sampleRate: RATE }], { sessionName: 'Cancel test' });
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
