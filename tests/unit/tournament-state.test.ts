// The tournament desk's orchestration in Node: contestants mixed by the real ml and render worker code, measured and
// loudness-matched, played blind through the A/B player (on a clock the test moves), the vote unlocked only after
// both sides were heard, then stored.
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TournamentDesk } from '../../src/features/tournament';
import { listVotes } from '../../src/features/tournament/vote-store';
import { closeDb } from '../../src/storage/db';
import { freshApp, noise, testStudio, ManualAudioContext } from './state-harness';

const RATE = 44100;


/** Plays side `side` for `seconds` of the player's clock, in steps the desk counts (it ignores gaps over 1 s). */
async function hear(desk: TournamentDesk, side: 'a' | 'b', seconds: number): Promise<void> {
  await desk.listen(side);
  for (let t = 0; t < seconds; t += 0.5) {
    ManualAudioContext.last!.advance(0.5);
    desk.seek(0.1);
  }
}

beforeEach(freshApp);
afterEach(() => closeDb());

describe('TournamentDesk (state)', () => {
  it('renders and loudness-matches the contestants, unlocks the vote once both were heard, and stores it', async () => {
    const { studio } = testStudio();
    await studio.addAudio(
      [
        { name: 'drums', channels: noise(2, 0.5, 1), sampleRate: RATE },
        { name: 'pad', channels: noise(2, 0.02, 2), sampleRate: RATE },
      ],
      { sessionName: 'Tournament test' },
    );
    const desk = new TournamentDesk(studio);
    desk.selected = ['equal-loudness', 'unity'];
    expect(await desk.start()).toBe(true);
    expect(studio.notices.filter((n) => n.level !== 'info')).toEqual([]);
    expect(desk.phase).toBe('listening');
    const renders = desk.renders;
    expect(renders.map((r) => r.id).sort()).toEqual(['equal-loudness', 'unity']);
    // Matched to the quieter render: it plays as it is, the louder one is turned down by their difference.
    const [quiet, loud] = [...renders].sort((x, y) => x.lufs - y.lufs);
    expect(quiet.matchGainDb).toBeCloseTo(0, 6);
    expect(loud.matchGainDb).toBeCloseTo(quiet.lufs - loud.lufs, 3);

    expect(desk.canVote).toBe(false);
    await hear(desk, 'a', 6);
    expect(desk.canVote).toBe(false);
    await hear(desk, 'b', 6);
    expect(desk.canVote).toBe(true);
    const pair = desk.pair!;
    const vote = await desk.vote('a');
    expect(vote?.a).toBe(pair.a);
    expect(desk.phase).toBe('revealed');
    const stored = await listVotes();
    expect(stored.map((v) => [v.a, v.b, v.winner])).toEqual([[pair.a, pair.b, 'a']]);
    expect(stored[0].listenMs.a).toBeGreaterThanOrEqual(5000);
    desk.dispose();
    await studio.dispose();
  });
});
