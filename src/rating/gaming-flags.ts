/**
 * Obvious vote gaming, after TTS Arena: a client that always picks the same side, and votes cast faster than anyone
 * can judge. Flagged votes are left out of the ratings and the position bias; the flags themselves are reported.
 */
import type { GamingFlag, LeaderboardResponse, Vote } from '../shared/votes';
import { leaderboard, positionBias, type LeaderboardOptions } from './bradley-terry';

export interface GamingFlagOptions {
  /** A client with at least this many votes, every one for side A (or every one for side B), is flagged. Default 20. */
  sameSideMinVotes?: number;
  /** A vote cast less than this long after voting unlocked is flagged. Default 1000 ms. */
  minDecideMs?: number;
}

export const DEFAULT_SAME_SIDE_MIN_VOTES = 20;
export const DEFAULT_MIN_DECIDE_MS = 1000;

type FlaggableVote = Pick<Vote, 'client' | 'winner' | 'decideMs'>;

/**
 * Flags per client and the votes that remain. Same-side clients lose all their votes (their judgements carry no
 * information about the models); sub-second votes are dropped one by one.
 */
export function gamingFlags<T extends FlaggableVote>(votes: readonly T[], opts: GamingFlagOptions = {}): { flags: GamingFlag[]; kept: T[] } {
  const minVotes = opts.sameSideMinVotes ?? DEFAULT_SAME_SIDE_MIN_VOTES;
  const minDecide = opts.minDecideMs ?? DEFAULT_MIN_DECIDE_MS;
  const perClient = new Map<string, { n: number; a: number; b: number; fast: number }>();
  for (const v of votes) {
    let s = perClient.get(v.client);
    if (!s) perClient.set(v.client, (s = { n: 0, a: 0, b: 0, fast: 0 }));
    s.n++;
    if (v.winner === 'a') s.a++;
    else if (v.winner === 'b') s.b++;
    if (v.decideMs < minDecide) s.fast++;
  }
  const flags: GamingFlag[] = [];
  const sameSide = new Set<string>();
  for (const [client, s] of perClient) {
    if (s.n >= minVotes && (s.a === s.n || s.b === s.n)) {
      sameSide.add(client);
      flags.push({ kind: 'same_side', client, votes: s.n, side: s.a === s.n ? 'a' : 'b' });
    }
    if (s.fast > 0) flags.push({ kind: 'sub_second', client, votes: s.fast });
  }
  flags.sort((x, y) => (x.kind < y.kind ? -1 : x.kind > y.kind ? 1 : x.client < y.client ? -1 : x.client > y.client ? 1 : 0));
  const kept = votes.filter((v) => !sameSide.has(v.client) && v.decideMs >= minDecide);
  return { flags, kept };
}

export interface VoteLeaderboardOptions extends LeaderboardOptions, GamingFlagOptions {}

type RatedVote = FlaggableVote & Pick<Vote, 'a' | 'b'>;

/** The leaderboard a vote endpoint serves: flags first, then ratings and position bias from the unflagged votes. */
export function leaderboardFromVotes(votes: readonly RatedVote[], opts: VoteLeaderboardOptions = {}): LeaderboardResponse {
  const { flags, kept } = gamingFlags(votes, opts);
  return {
    models: leaderboard(kept, opts),
    positionBias: positionBias(kept),
    flags,
    totalVotes: votes.length,
    excludedVotes: votes.length - kept.length,
  };
}
