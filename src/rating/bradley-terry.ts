/**
 * Bradley–Terry ratings from blind A/B votes. Pure: runs in the app, in workers, in the vote endpoint and in Node tests.
 *
 * Model: P(i beats j) = p_i / (p_i + p_j), with θ = log p fitted by maximum likelihood (Newton's method with a
 * backtracking line search on the concave log-likelihood; a handful of iterations for tens of models).
 * - A tie counts as half a win for each side.
 * - "both_bad" also counts as a tie: it says nothing about which of the two is better, only that neither is good,
 *   and the pair did meet.
 * - Prior: each model also plays `prior` virtual games (half won, half lost) against a fixed reference player of
 *   strength 1. It keeps a model that never lost (or never won) finite and pins the otherwise free scale; at the
 *   default 0.1 game it moves a 3–1 record's odds from 3 to about 2.95 and is negligible once a pair has tens of votes.
 *   With prior 0 the plain MLE is returned, which exists only when the "beat or tied" graph is strongly connected.
 */
import type { ModelRating, PositionBias, Winner } from '../shared/votes';
import { seededRandom } from '../shared/random';

export type { ModelRating, PositionBias } from '../shared/votes';

export interface Comparison {
  a: string;
  b: string;
  winner: Winner;
}

export interface FitOptions {
  /** Virtual games per model against a reference player of strength 1 (see the module comment). */
  prior?: number;
}

export interface LeaderboardOptions extends FitOptions {
  /** Bootstrap resamples for the 95% interval; 0 gives ci = [rating, rating]. Default 1000. */
  bootstrap?: number;
  /** Seed of the resampling, so the same votes give the same intervals. Default 1. */
  seed?: number;
}

export const DEFAULT_PRIOR = 0.1;
export const DEFAULT_BOOTSTRAP = 1000;
export const RATING_BASE = 1000;
export const RATING_SCALE = 400;

const LOG10 = Math.LN10;
const MAX_NEWTON_ITERATIONS = 200;

/** Expected score of a model rated `ra` against one rated `rb` (ratings on the leaderboard scale). */
export function expectedScore(ra: number, rb: number): number {
  return 1 / (1 + 10 ** ((rb - ra) / RATING_SCALE));
}

/** Wins of i over j (half for a tie) in a dense n×n matrix, plus the encoded comparisons for resampling. */
interface Tally {
  ids: string[];
  index: Map<string, number>;
  /** Comparisons as i·n + j of the side that scored, twice for ties (0.5 each): row-major into `wins`. */
  encoded: Int32Array;
  /** 1 for a decided vote, 0 for a tie; a tie adds 0.5 to both w[i][j] and w[j][i]. */
  decided: Uint8Array;
}

function canonicalKey(c: Comparison): string {
  return `${c.a}\u0000${c.b}\u0000${c.winner}`;
}

function tally(comparisons: readonly Comparison[], sortForResampling: boolean): Tally {
  const valid = comparisons.filter((c) => c.a !== c.b);
  // Sorting makes bootstrap draws depend on the multiset of votes only, not on the order they arrived in.
  const list = sortForResampling ? valid.map((c) => [canonicalKey(c), c] as const).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)).map((x) => x[1]) : valid;
  const ids = [...new Set(list.flatMap((c) => [c.a, c.b]))].sort();
  const index = new Map(ids.map((id, i) => [id, i]));
  const n = ids.length;
  const encoded = new Int32Array(list.length);
  const decided = new Uint8Array(list.length);
  list.forEach((c, k) => {
    const i = index.get(c.a)!;
    const j = index.get(c.b)!;
    if (c.winner === 'a') {
      encoded[k] = i * n + j;
      decided[k] = 1;
    } else if (c.winner === 'b') {
      encoded[k] = j * n + i;
      decided[k] = 1;
    } else {
      encoded[k] = i * n + j;
    }
  });
  return { ids, index, encoded, decided };
}

function accumulate(t: Tally, wins: Float64Array, picks?: Int32Array): void {
  wins.fill(0);
  const n = t.ids.length;
  const m = picks ? picks.length : t.encoded.length;
  for (let q = 0; q < m; q++) {
    const k = picks ? picks[q] : q;
    const cell = t.encoded[k];
    if (t.decided[k]) {
      wins[cell] += 1;
    } else {
      const i = Math.floor(cell / n);
      const j = cell - i * n;
      wins[cell] += 0.5;
      wins[j * n + i] += 0.5;
    }
  }
}

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
/** log(e^x + e^y) without overflow. */
const logAddExp = (x: number, y: number) => Math.max(x, y) + Math.log1p(Math.exp(-Math.abs(x - y)));

function logLikelihood(theta: Float64Array, wins: Float64Array, n: number, prior: number): number {
  let f = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const wij = wins[i * n + j];
      const wji = wins[j * n + i];
      if (wij + wji === 0) continue;
      f += wij * theta[i] + wji * theta[j] - (wij + wji) * logAddExp(theta[i], theta[j]);
    }
    if (prior > 0) f += prior * (0.5 * theta[i] - logAddExp(theta[i], 0));
  }
  return f;
}

/** Solves A x = b in place for symmetric positive definite A (Cholesky); false if A is not positive definite. */
function solveSpd(A: Float64Array, b: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    let d = A[j * n + j];
    for (let k = 0; k < j; k++) d -= A[j * n + k] * A[j * n + k];
    if (!(d > 1e-12)) return false;
    d = Math.sqrt(d);
    A[j * n + j] = d;
    for (let i = j + 1; i < n; i++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= A[i * n + k] * A[j * n + k];
      A[i * n + j] = s / d;
    }
  }
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= A[i * n + k] * b[k];
    b[i] = s / A[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= A[k * n + i] * b[k];
    b[i] = s / A[i * n + i];
  }
  return true;
}

/** Whether every model can reach every other through "beat or tied" edges: the condition for a finite MLE. */
function stronglyConnected(wins: Float64Array, n: number): boolean {
  const reach = (forward: boolean) => {
    const seen = new Uint8Array(n);
    const stack = [0];
    seen[0] = 1;
    while (stack.length) {
      const i = stack.pop()!;
      for (let j = 0; j < n; j++) {
        if (!seen[j] && (forward ? wins[i * n + j] : wins[j * n + i]) > 0) {
          seen[j] = 1;
          stack.push(j);
        }
      }
    }
    return seen.every((s) => s === 1);
  };
  return n <= 1 || (reach(true) && reach(false));
}

/** Maximises the log-likelihood over θ = log strength, starting from `theta` (updated in place). */
function fitTheta(wins: Float64Array, n: number, prior: number, theta: Float64Array): void {
  if (n === 0) return;
  if (prior === 0 && !stronglyConnected(wins, n)) {
    throw new Error('Bradley–Terry: no finite maximum-likelihood fit, because some model never lost (or never won) against the rest; use a prior > 0');
  }
  const A = new Float64Array(n * n);
  const g = new Float64Array(n);
  const trial = new Float64Array(n);
  let f = logLikelihood(theta, wins, n, prior);
  for (let iter = 0; iter < MAX_NEWTON_ITERATIONS; iter++) {
    A.fill(0);
    for (let i = 0; i < n; i++) {
      g[i] = 0;
      if (prior > 0) {
        const s = sigmoid(theta[i]);
        g[i] += prior * (0.5 - s);
        A[i * n + i] += prior * s * (1 - s);
      }
    }
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const wij = wins[i * n + j];
        const wji = wins[j * n + i];
        const nij = wij + wji;
        if (nij === 0) continue;
        const p = sigmoid(theta[i] - theta[j]);
        g[i] += wij - nij * p;
        g[j] += wji - nij * (1 - p);
        const h = nij * p * (1 - p);
        A[i * n + i] += h;
        A[j * n + j] += h;
        A[i * n + j] -= h;
        A[j * n + i] -= h;
      }
    }
    // Without a prior the likelihood is flat along θ + c: adding 11ᵀ/n picks the step with Σ step = 0.
    if (prior === 0) for (let k = 0; k < n * n; k++) A[k] += 1 / n;
    if (!solveSpd(A, g, n)) throw new Error('Bradley–Terry: the comparison graph is not connected; use a prior > 0');
    let step = 1;
    let fNew = -Infinity;
    for (; step > 1e-10; step /= 2) {
      for (let i = 0; i < n; i++) trial[i] = theta[i] + step * g[i];
      fNew = logLikelihood(trial, wins, n, prior);
      if (fNew >= f - 1e-12 * Math.abs(f)) break;
    }
    let change = 0;
    for (let i = 0; i < n; i++) {
      change = Math.max(change, Math.abs(trial[i] - theta[i]));
      theta[i] = trial[i];
    }
    f = fNew;
    if (change < 1e-10) break;
  }
}

function centre(theta: Float64Array): Float64Array {
  let mean = 0;
  for (const t of theta) mean += t / theta.length;
  return theta.map((t) => t - mean);
}

/**
 * Maximum-likelihood strengths, scaled so their geometric mean is 1: strength(a) / strength(b) is the fitted odds
 * that a beats b. Only models that appear in a comparison are listed; comparisons of a model with itself are ignored.
 */
export function fitBradleyTerry(comparisons: readonly Comparison[], opts: FitOptions = {}): Map<string, number> {
  const prior = opts.prior ?? DEFAULT_PRIOR;
  const t = tally(comparisons, false);
  const n = t.ids.length;
  const wins = new Float64Array(n * n);
  accumulate(t, wins);
  const theta = new Float64Array(n);
  fitTheta(wins, n, prior, theta);
  const centred = centre(theta);
  return new Map(t.ids.map((id, i) => [id, Math.exp(centred[i])]));
}

/** Converts strengths (any scale) to leaderboard ratings whose mean is RATING_BASE. */
export function strengthsToRatings(strengths: ReadonlyMap<string, number>): Map<string, number> {
  const logs = [...strengths.values()].map(Math.log);
  const mean = logs.reduce((s, x) => s + x, 0) / Math.max(1, logs.length);
  return new Map([...strengths].map(([id, p]) => [id, RATING_BASE + (RATING_SCALE * (Math.log(p) - mean)) / LOG10]));
}

/** Linear-interpolated quantile of sorted values (the usual "type 7"). */
function quantile(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Ratings (1000 + 400·log10 strength, mean 1000) with 95% percentile-bootstrap intervals from resampling votes with
 * replacement, best first. Deterministic for a given seed and independent of vote order.
 */
export function leaderboard(comparisons: readonly Comparison[], opts: LeaderboardOptions = {}): ModelRating[] {
  const prior = opts.prior ?? DEFAULT_PRIOR;
  const rounds = Math.max(0, Math.floor(opts.bootstrap ?? DEFAULT_BOOTSTRAP));
  const t = tally(comparisons, true);
  const n = t.ids.length;
  if (n === 0) return [];
  const wins = new Float64Array(n * n);
  accumulate(t, wins);
  const theta = new Float64Array(n);
  fitTheta(wins, n, prior, theta);
  const toRating = (x: number) => RATING_BASE + (RATING_SCALE * x) / LOG10;
  const point = centre(theta).map(toRating);

  const samples = Array.from({ length: n }, () => new Float64Array(rounds));
  if (rounds > 0) {
    // Resampling needs the prior: a model can be missing from a resample, and the reference keeps it finite.
    const bootPrior = prior > 0 ? prior : DEFAULT_PRIOR;
    const rand = seededRandom(opts.seed ?? 1);
    const m = t.encoded.length;
    const picks = new Int32Array(m);
    const start = theta.slice();
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < m; k++) picks[k] = Math.floor(rand() * m);
      accumulate(t, wins, picks);
      const th = start.slice();
      fitTheta(wins, n, bootPrior, th);
      const c = centre(th);
      for (let i = 0; i < n; i++) samples[i][r] = toRating(c[i]);
    }
  }

  const counts = countResults(comparisons);
  return t.ids
    .map((id, i): ModelRating => {
      const s = samples[i].sort();
      const ci: [number, number] = rounds > 0 ? [quantile(s, 0.025), quantile(s, 0.975)] : [point[i], point[i]];
      const r = counts.get(id)!;
      return { id, rating: point[i], ci, ...r, votes: r.wins + r.losses + r.ties };
    })
    .sort((x, y) => y.rating - x.rating || (x.id < y.id ? -1 : 1));
}

/** Wins, losses and ties (both_bad included, and also counted apart) per model. */
export function countResults(comparisons: readonly Comparison[]): Map<string, { wins: number; losses: number; ties: number; bothBad: number }> {
  const out = new Map<string, { wins: number; losses: number; ties: number; bothBad: number }>();
  const get = (id: string) => {
    let r = out.get(id);
    if (!r) out.set(id, (r = { wins: 0, losses: 0, ties: 0, bothBad: 0 }));
    return r;
  };
  for (const c of comparisons) {
    if (c.a === c.b) continue;
    const a = get(c.a);
    const b = get(c.b);
    if (c.winner === 'a') {
      a.wins++;
      b.losses++;
    } else if (c.winner === 'b') {
      b.wins++;
      a.losses++;
    } else {
      a.ties++;
      b.ties++;
      if (c.winner === 'both_bad') {
        a.bothBad++;
        b.bothBad++;
      }
    }
  }
  return out;
}

/** How often the model on side A wins among decided votes, with a 95% Wilson interval. 0.5 when none is decided. */
export function positionBias(comparisons: readonly Comparison[]): PositionBias {
  let aWins = 0;
  let bWins = 0;
  for (const c of comparisons) {
    if (c.winner === 'a') aWins++;
    else if (c.winner === 'b') bWins++;
  }
  const decided = aWins + bWins;
  if (decided === 0) return { aWins, bWins, decided, aWinRate: 0.5, ci: [0, 1] };
  const p = aWins / decided;
  const z = 1.959964;
  const z2n = (z * z) / decided;
  const mid = (p + z2n / 2) / (1 + z2n);
  const half = (z * Math.sqrt((p * (1 - p)) / decided + z2n / (4 * decided))) / (1 + z2n);
  return { aWins, bWins, decided, aWinRate: p, ci: [Math.max(0, mid - half), Math.min(1, mid + half)] };
}

/**
 * The next pair to judge, drawn with weight 4·p(1−p) / (1 + n)², where n is how often the pair has met and p the
 * fitted chance that one beats the other: unseen pairs first, then close matches. The order of the two is random too,
 * but callers that show sides should still assign A and B themselves.
 */
export function nextPair(models: readonly string[], comparisons: readonly Comparison[], rand: () => number = Math.random): [string, string] {
  const ids = [...new Set(models)];
  if (ids.length < 2) throw new Error(`A tournament needs at least two models; got ${ids.length}`);
  const known = new Set(ids);
  const relevant = comparisons.filter((c) => known.has(c.a) && known.has(c.b) && c.a !== c.b);
  const strengths = fitBradleyTerry(relevant);
  const met = new Map<string, number>();
  const pairKey = (x: string, y: string) => (x < y ? `${x}\u0000${y}` : `${y}\u0000${x}`);
  for (const c of relevant) met.set(pairKey(c.a, c.b), (met.get(pairKey(c.a, c.b)) ?? 0) + 1);
  const pairs: [string, string, number][] = [];
  let total = 0;
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) {
      const pi = strengths.get(ids[i]) ?? 1;
      const pj = strengths.get(ids[j]) ?? 1;
      const p = pi / (pi + pj);
      const n = met.get(pairKey(ids[i], ids[j])) ?? 0;
      const w = (4 * p * (1 - p) + 1e-6) / (1 + n) ** 2;
      pairs.push([ids[i], ids[j], w]);
      total += w;
    }
  }
  let x = rand() * total;
  let chosen = pairs[pairs.length - 1];
  for (const p of pairs) {
    x -= p[2];
    if (x < 0) {
      chosen = p;
      break;
    }
  }
  return rand() < 0.5 ? [chosen[0], chosen[1]] : [chosen[1], chosen[0]];
}
