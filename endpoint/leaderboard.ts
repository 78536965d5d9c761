/**
 * The served leaderboard, from a store's tally (votes counted by pair, outcome, client, speed and moderation)
 * rather than from every row: the store sends a few thousand groups instead of a million votes, and the fit is the
 * app's own (`src/rating/`), fed the same multiset of votes, so the numbers are the ones an in-process fit of the
 * raw votes gives, whichever store they came from.
 */
import type { GamingFlag, LeaderboardResponse, Winner } from '../src/shared/votes';
import { gamingFlags, leaderboardFromVotes } from '../src/rating/gaming-flags';
import type { TallyGroup } from './store';

export interface LeaderboardFitOptions {
  bootstrap: number;
  seed: number;
  /** Resampled votes per leaderboard at most: big stores get fewer rounds (never under 100) to bound CPU time. */
  bootstrapBudget: number;
  sameSideMinVotes: number;
  minDecideMs: number;
}

export interface ServedLeaderboard extends LeaderboardResponse {
  /** Votes of clients a moderator excluded; counted in totalVotes and excludedVotes. */
  moderatedVotes: number;
  bootstrap: { rounds: number; seed: number };
}

interface SyntheticVote {
  a: string;
  b: string;
  winner: Winner;
  client: string;
  decideMs: number;
}

const canonical = (g: TallyGroup) => `${g.a}\u0000${g.b}\u0000${g.winner}`;

/**
 * One entry per vote, in the order the rating code sorts them to (pair, then outcome), each group sharing one
 * object. The rating code reads only a, b, winner, client and whether decideMs is under the threshold, so this
 * multiset rates, flags and resamples exactly as the stored rows would.
 */
function expand(groups: readonly TallyGroup[], minDecideMs: number): SyntheticVote[] {
  const keyed = groups.map((g) => [canonical(g), g] as const);
  keyed.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1].client < y[1].client ? -1 : x[1].client > y[1].client ? 1 : Number(x[1].fast) - Number(y[1].fast)));
  const out: SyntheticVote[] = [];
  for (const [, g] of keyed) {
    const v: SyntheticVote = { a: g.a, b: g.b, winner: g.winner, client: g.client, decideMs: g.fast ? minDecideMs - 1 : minDecideMs };
    for (let k = 0; k < g.n; k++) out.push(v);
  }
  return out;
}

export function bootstrapRounds(votes: number, opts: Pick<LeaderboardFitOptions, 'bootstrap' | 'bootstrapBudget'>): number {
  return Math.min(opts.bootstrap, Math.max(100, Math.floor(opts.bootstrapBudget / Math.max(1, votes))));
}

/** The public leaderboard: moderated clients left out entirely, then the gaming flags and the fit of what remains. */
export function leaderboardFromTally(groups: readonly TallyGroup[], opts: LeaderboardFitOptions): ServedLeaderboard {
  let moderatedVotes = 0;
  const kept: TallyGroup[] = [];
  for (const g of groups) {
    if (g.excluded) moderatedVotes += g.n;
    else kept.push(g);
  }
  const votes = expand(kept, opts.minDecideMs);
  const rounds = bootstrapRounds(votes.length, opts);
  const lb = leaderboardFromVotes(votes, { bootstrap: rounds, seed: opts.seed, sameSideMinVotes: opts.sameSideMinVotes, minDecideMs: opts.minDecideMs });
  return {
    ...lb,
    totalVotes: lb.totalVotes + moderatedVotes,
    excludedVotes: lb.excludedVotes + moderatedVotes,
    moderatedVotes,
    bootstrap: { rounds, seed: opts.seed },
  };
}

export interface AdminFlag extends GamingFlag {
  /** Whether a moderator has excluded this client. */
  excluded: boolean;
}

/** Gaming flags over every stored vote, moderated clients included, for the moderators' list. */
export function flagsFromTally(groups: readonly TallyGroup[], opts: Pick<LeaderboardFitOptions, 'sameSideMinVotes' | 'minDecideMs'>): AdminFlag[] {
  const excluded = new Set(groups.filter((g) => g.excluded).map((g) => g.client));
  const { flags } = gamingFlags(expand(groups, opts.minDecideMs), opts);
  return flags.map((f) => ({ ...f, excluded: excluded.has(f.client) }));
}
