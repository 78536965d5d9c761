// Votes drawn from known Bradley–Terry strengths, for the load script and the rating tests. Deterministic per seed.
import type { Vote, Winner } from '../src/shared/votes';
import { RATING_BASE, RATING_SCALE } from '../src/rating/bradley-terry';
import { seededRandom } from '../src/shared/random';

export interface SimulationOptions {
  /** True ratings on the leaderboard scale (1000 + 400·log10 strength); a centred set is what a fit recovers. */
  ratings: Record<string, number>;
  count: number;
  seed: number;
  /** Distinct simulated listeners. Default 50. */
  clients?: number;
  /** Share of ties (half of them "both_bad"). Default 0. */
  tieRate?: number;
  /** First vote's timestamp. Default 2026-01-01. */
  startTs?: number;
}

function uuidFrom(rand: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((Math.floor(rand() * 4) + 8) as number).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/**
 * Each vote picks a random pair and random sides. Ties happen at `tieRate`; the rest are decided so that the expected
 * score (a tie counting half) equals the Bradley–Terry probability, which keeps the half-win fit unbiased.
 */
export function simulateVotes(opts: SimulationOptions): Vote[] {
  const rand = seededRandom(opts.seed);
  const ids = Object.keys(opts.ratings);
  if (ids.length < 2) throw new Error('simulateVotes needs at least two models');
  const tieRate = opts.tieRate ?? 0;
  const clients = Array.from({ length: opts.clients ?? 50 }, () => uuidFrom(rand));
  const sessions = Array.from({ length: 8 }, () => Array.from({ length: 64 }, () => Math.floor(rand() * 16).toString(16)).join(''));
  const startTs = opts.startTs ?? Date.UTC(2026, 0, 1);
  const votes: Vote[] = [];
  for (let k = 0; k < opts.count; k++) {
    const i = Math.floor(rand() * ids.length);
    let j = Math.floor(rand() * (ids.length - 1));
    if (j >= i) j++;
    const [a, b] = rand() < 0.5 ? [ids[i], ids[j]] : [ids[j], ids[i]];
    const p = 1 / (1 + 10 ** ((opts.ratings[b] - opts.ratings[a]) / RATING_SCALE));
    let winner: Winner;
    if (rand() < tieRate) {
      winner = rand() < 0.5 ? 'tie' : 'both_bad';
    } else {
      // (1 − t)·q + t/2 = p, clamped where the pair is too lopsided for that tie rate.
      const q = Math.min(1, Math.max(0, (p - tieRate / 2) / (1 - tieRate)));
      winner = rand() < q ? 'a' : 'b';
    }
    votes.push({
      id: uuidFrom(rand),
      a,
      aVersion: '1.0.0',
      b,
      bVersion: '1.0.0',
      winner,
      client: clients[Math.floor(rand() * clients.length)],
      ts: startTs + k * 1000,
      session: sessions[Math.floor(rand() * sessions.length)],
      listenMs: { a: 5000 + Math.round(rand() * 20_000), b: 5000 + Math.round(rand() * 20_000) },
      decideMs: 1000 + Math.round(rand() * 15_000),
    });
  }
  return votes;
}

/** Centres ratings on RATING_BASE, as the leaderboard reports them. */
export function centredRatings(ratings: Record<string, number>): Record<string, number> {
  const values = Object.values(ratings);
  const mean = values.reduce((s, x) => s + x, 0) / values.length;
  return Object.fromEntries(Object.entries(ratings).map(([id, r]) => [id, r - mean + RATING_BASE]));
}
