import { describe, expect, it } from 'vitest';
import {
  countResults,
  expectedScore,
  fitBradleyTerry,
  leaderboard,
  nextPair,
  positionBias,
  strengthsToRatings,
  type Comparison,
} from '../../src/rating/bradley-terry';
import { gamingFlags, leaderboardFromVotes } from '../../src/rating/gaming-flags';
import { seededRandom } from '../../src/shared/random';
import type { Winner } from '../../src/shared/votes';
import { centredRatings, simulateVotes } from '../../endpoint/simulate';

const cmp = (a: string, b: string, winner: Winner): Comparison => ({ a, b, winner });
const repeat = (n: number, c: Comparison) => Array.from({ length: n }, () => ({ ...c }));

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const rand = seededRandom(seed);
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const swapSides = (c: Comparison): Comparison => ({ a: c.b, b: c.a, winner: c.winner === 'a' ? 'b' : c.winner === 'b' ? 'a' : c.winner });

describe('fitBradleyTerry, worked by hand', () => {
  // Two models: the likelihood equation W_x = n·p_x/(p_x+p_y) gives p_x/p_y = W_x/W_y.
  it('a 3–1 record gives odds of exactly 3 without a prior', () => {
    const c = [cmp('x', 'y', 'a'), cmp('x', 'y', 'a'), cmp('y', 'x', 'b'), cmp('x', 'y', 'b')];
    const s = fitBradleyTerry(c, { prior: 0 });
    expect(s.get('x')! / s.get('y')!).toBeCloseTo(3, 10);
    // Geometric mean 1: p_x = √3, p_y = 1/√3.
    expect(s.get('x')!).toBeCloseTo(Math.sqrt(3), 10);
    const r = strengthsToRatings(s);
    expect(r.get('x')! - r.get('y')!).toBeCloseTo(400 * Math.log10(3), 8);
    expect((r.get('x')! + r.get('y')!) / 2).toBeCloseTo(1000, 10);
  });

  it('ties count half a win each: 2 wins, 1 loss, 2 ties gives odds 3/2', () => {
    const c = [cmp('x', 'y', 'a'), cmp('y', 'x', 'b'), cmp('x', 'y', 'b'), cmp('x', 'y', 'tie'), cmp('y', 'x', 'tie')];
    const s = fitBradleyTerry(c, { prior: 0 });
    expect(s.get('x')! / s.get('y')!).toBeCloseTo(1.5, 10);
  });

  it('both_bad counts exactly as a tie', () => {
    const withTies = [cmp('x', 'y', 'a'), cmp('x', 'y', 'a'), cmp('x', 'y', 'b'), cmp('x', 'y', 'tie')];
    const withBothBad = [cmp('x', 'y', 'a'), cmp('x', 'y', 'a'), cmp('x', 'y', 'b'), cmp('x', 'y', 'both_bad')];
    const s1 = fitBradleyTerry(withTies, { prior: 0 });
    const s2 = fitBradleyTerry(withBothBad, { prior: 0 });
    expect(s1.get('x')! / s1.get('y')!).toBeCloseTo(2.5 / 1.5, 10);
    expect(s2.get('x')!).toBeCloseTo(s1.get('x')!, 12);
  });

  // A beats B 2–1 and B beats C 2–1, A and C never meet: A's equation gives p_A = 2 p_B, C's gives p_B = 2 p_C.
  it('a chain A>B>C of 2–1 records gives strengths 4:2:1', () => {
    const c = [...repeat(2, cmp('A', 'B', 'a')), cmp('A', 'B', 'b'), ...repeat(2, cmp('B', 'C', 'a')), cmp('C', 'B', 'a')];
    const s = fitBradleyTerry(c, { prior: 0 });
    expect(s.get('A')! / s.get('B')!).toBeCloseTo(2, 9);
    expect(s.get('B')! / s.get('C')!).toBeCloseTo(2, 9);
    expect(s.get('A')! * s.get('B')! * s.get('C')!).toBeCloseTo(1, 9);
  });

  it('a rock–paper–scissors cycle gives equal strengths', () => {
    const c = [...repeat(3, cmp('r', 's', 'a')), ...repeat(3, cmp('s', 'p', 'a')), ...repeat(3, cmp('p', 'r', 'a')), cmp('s', 'r', 'a'), cmp('p', 's', 'a'), cmp('r', 'p', 'a')];
    for (const p of fitBradleyTerry(c, { prior: 0 }).values()) expect(p).toBeCloseTo(1, 9);
  });

  it('satisfies the likelihood equations W_i = Σ_j n_ij·p_i/(p_i+p_j) on irregular data', () => {
    const rand = seededRandom(11);
    const ids = ['m0', 'm1', 'm2', 'm3', 'm4'];
    const winners: Winner[] = ['a', 'b', 'tie', 'both_bad', 'a'];
    const c = Array.from({ length: 300 }, () => {
      const i = Math.floor(rand() * 5);
      const j = (i + 1 + Math.floor(rand() * 4)) % 5;
      return cmp(ids[i], ids[j], winners[Math.floor(rand() * winners.length)]);
    });
    const s = fitBradleyTerry(c, { prior: 0 });
    for (const id of ids) {
      let score = 0;
      let expected = 0;
      for (const x of c) {
        if (x.a !== id && x.b !== id) continue;
        const other = x.a === id ? x.b : x.a;
        const mine = x.a === id ? 'a' : 'b';
        score += x.winner === mine ? 1 : x.winner === 'tie' || x.winner === 'both_bad' ? 0.5 : 0;
        expected += s.get(id)! / (s.get(id)! + s.get(other)!);
      }
      expect(expected).toBeCloseTo(score, 7);
    }
  });

  it('without a prior an unbeaten model has no finite fit; the default prior keeps it finite', () => {
    const c = [...repeat(5, cmp('x', 'y', 'a')), ...repeat(2, cmp('y', 'z', 'a')), cmp('z', 'y', 'a')];
    expect(() => fitBradleyTerry(c, { prior: 0 })).toThrow(/never lost/);
    const s = fitBradleyTerry(c);
    expect(Number.isFinite(s.get('x')!)).toBe(true);
    expect(s.get('x')!).toBeGreaterThan(s.get('y')!);
    expect(s.get('y')!).toBeGreaterThan(s.get('z')!);
  });

  it('the default prior only shrinks a 3–1 record a little', () => {
    const c = [...repeat(3, cmp('x', 'y', 'a')), cmp('x', 'y', 'b')];
    const odds = fitBradleyTerry(c).get('x')! / fitBradleyTerry(c).get('y')!;
    expect(odds).toBeGreaterThan(2.9);
    expect(odds).toBeLessThan(3);
  });

  it('ignores a model compared with itself, and is empty without votes', () => {
    expect(fitBradleyTerry([]).size).toBe(0);
    expect(leaderboard([])).toEqual([]);
    const s = fitBradleyTerry([cmp('x', 'x', 'a'), cmp('x', 'y', 'a'), cmp('y', 'x', 'a')], { prior: 0 });
    expect(s.get('x')!).toBeCloseTo(1, 10);
  });

  it('expectedScore matches the rating gap', () => {
    expect(expectedScore(1000 + 400 * Math.log10(3), 1000)).toBeCloseTo(0.75, 12);
    expect(expectedScore(1000, 1000)).toBe(0.5);
  });
});

describe('invariance', () => {
  const sim = simulateVotes({ ratings: { p: 1100, q: 1000, r: 950, s: 900 }, count: 600, seed: 5, tieRate: 0.15 });

  it('vote order does not change the fit, the ratings or the bootstrap intervals', () => {
    const a = leaderboard(sim, { bootstrap: 200, seed: 3 });
    const b = leaderboard(shuffled(sim, 99), { bootstrap: 200, seed: 3 });
    expect(b).toEqual(a);
    const s1 = fitBradleyTerry(sim);
    const s2 = fitBradleyTerry(shuffled(sim, 7));
    for (const [id, p] of s1) expect(s2.get(id)!).toBeCloseTo(p, 12);
  });

  it('which side a model played on does not change its strength', () => {
    const s1 = fitBradleyTerry(sim);
    const s2 = fitBradleyTerry(sim.map(swapSides));
    for (const [id, p] of s1) expect(s2.get(id)!).toBeCloseTo(p, 10);
  });

  it('the seed fixes the intervals, and another seed moves them', () => {
    const a = leaderboard(sim, { bootstrap: 200, seed: 3 });
    expect(leaderboard(sim, { bootstrap: 200, seed: 3 })).toEqual(a);
    const other = leaderboard(sim, { bootstrap: 200, seed: 4 });
    expect(other.map((m) => m.rating)).toEqual(a.map((m) => m.rating));
    expect(other.map((m) => m.ci)).not.toEqual(a.map((m) => m.ci));
  });
});

describe('recovery of known strengths from simulated votes', () => {
  const truth = { 'mix-a': 1150, 'mix-b': 1080, 'mix-c': 1000, 'mix-d': 950, 'mix-e': 870 };
  const centred = centredRatings(truth);

  it('20,000 votes with ties: order, ratings within 12 points, and every interval contains the truth', () => {
    const votes = simulateVotes({ ratings: truth, count: 20_000, seed: 42, tieRate: 0.1 });
    const lb = leaderboard(votes, { bootstrap: 300, seed: 1 });
    expect(lb.map((m) => m.id)).toEqual(['mix-a', 'mix-b', 'mix-c', 'mix-d', 'mix-e']);
    for (const m of lb) {
      expect(Math.abs(m.rating - centred[m.id as keyof typeof centred])).toBeLessThan(12);
      expect(m.ci[0]).toBeLessThan(centred[m.id as keyof typeof centred]);
      expect(m.ci[1]).toBeGreaterThan(centred[m.id as keyof typeof centred]);
      expect(m.ci[0]).toBeLessThanOrEqual(m.rating);
      expect(m.ci[1]).toBeGreaterThanOrEqual(m.rating);
    }
    const mean = lb.reduce((s, m) => s + m.rating, 0) / lb.length;
    expect(mean).toBeCloseTo(1000, 9);
  });

  it('95% intervals cover the truth about 95% of the time over 30 simulations', () => {
    let covered = 0;
    let total = 0;
    for (let seed = 100; seed < 130; seed++) {
      const lb = leaderboard(simulateVotes({ ratings: truth, count: 1500, seed, tieRate: 0.1 }), { bootstrap: 200, seed });
      for (const m of lb) {
        const t = centred[m.id as keyof typeof centred];
        total++;
        if (m.ci[0] <= t && t <= m.ci[1]) covered++;
      }
    }
    expect(total).toBe(150);
    // Binomial(150, 0.95) lies in 134..149 with probability above 99%; a broken interval lands far outside.
    expect(covered / total).toBeGreaterThan(0.88);
    expect(covered / total).toBeLessThan(1);
  });

  it('intervals narrow like 1/√n: four times the votes, about half the width', () => {
    const width = (count: number) => {
      const lb = leaderboard(simulateVotes({ ratings: truth, count, seed: 8 }), { bootstrap: 300, seed: 2 });
      return lb.reduce((s, m) => s + (m.ci[1] - m.ci[0]), 0) / lb.length;
    };
    const ratio = width(2000) / width(8000);
    expect(ratio).toBeGreaterThan(1.7);
    expect(ratio).toBeLessThan(2.3);
  });
});

describe('leaderboard rows', () => {
  it('counts wins, losses, ties (both_bad included) and votes, best first', () => {
    const c = [cmp('x', 'y', 'a'), cmp('x', 'y', 'a'), cmp('y', 'x', 'a'), cmp('x', 'y', 'tie'), cmp('z', 'x', 'both_bad'), cmp('z', 'y', 'b')];
    const lb = leaderboard(c, { bootstrap: 50 });
    const row = (id: string) => lb.find((m) => m.id === id)!;
    expect(row('x')).toMatchObject({ wins: 2, losses: 1, ties: 2, bothBad: 1, votes: 5 });
    expect(row('y')).toMatchObject({ wins: 2, losses: 2, ties: 1, bothBad: 0, votes: 5 });
    expect(row('z')).toMatchObject({ wins: 0, losses: 1, ties: 1, bothBad: 1, votes: 2 });
    for (let i = 1; i < lb.length; i++) expect(lb[i - 1].rating).toBeGreaterThanOrEqual(lb[i].rating);
    expect(countResults(c).get('x')).toEqual({ wins: 2, losses: 1, ties: 2, bothBad: 1 });
  });

  it('bootstrap 0 gives a zero-width interval at the rating', () => {
    for (const m of leaderboard([cmp('x', 'y', 'a'), cmp('x', 'y', 'b'), cmp('x', 'y', 'a')], { bootstrap: 0 })) expect(m.ci).toEqual([m.rating, m.rating]);
  });
});

describe('positionBias', () => {
  it('counts side wins among decided votes with a Wilson interval (8 of 10: 0.490–0.943)', () => {
    const c = [...repeat(8, cmp('x', 'y', 'a')), ...repeat(2, cmp('x', 'y', 'b')), cmp('x', 'y', 'tie'), cmp('x', 'y', 'both_bad')];
    const pb = positionBias(c);
    expect(pb).toMatchObject({ aWins: 8, bWins: 2, decided: 10, aWinRate: 0.8 });
    expect(pb.ci[0]).toBeCloseTo(0.4902, 3);
    expect(pb.ci[1]).toBeCloseTo(0.9433, 3);
  });

  it('is neutral with nothing decided', () => {
    expect(positionBias([cmp('x', 'y', 'tie')])).toEqual({ aWins: 0, bWins: 0, decided: 0, aWinRate: 0.5, ci: [0, 1] });
  });
});

describe('nextPair', () => {
  const draw = (models: string[], c: Comparison[], n: number) => {
    const rand = seededRandom(77);
    const freq = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const [x, y] = nextPair(models, c, rand);
      expect(x).not.toBe(y);
      expect(models).toContain(x);
      expect(models).toContain(y);
      const key = [x, y].sort().join('-');
      freq.set(key, (freq.get(key) ?? 0) + 1);
    }
    return freq;
  };

  it('favours the pair that has never met', () => {
    const c = [...repeat(10, cmp('x', 'y', 'a')), ...repeat(10, cmp('y', 'x', 'a')), ...repeat(3, cmp('y', 'z', 'a')), ...repeat(3, cmp('z', 'y', 'a'))];
    const freq = draw(['x', 'y', 'z'], c, 1000);
    expect(freq.get('x-z')! / 1000).toBeGreaterThan(0.85);
  });

  it('among pairs met equally often, favours the closest match', () => {
    const c = [...repeat(5, cmp('x', 'y', 'a')), ...repeat(5, cmp('y', 'x', 'a')), ...repeat(9, cmp('x', 'z', 'a')), cmp('z', 'x', 'a'), ...repeat(9, cmp('y', 'z', 'a')), cmp('z', 'y', 'a')];
    const freq = draw(['x', 'y', 'z'], c, 3000);
    expect(freq.get('x-y')!).toBeGreaterThan(1.5 * freq.get('x-z')!);
    expect(freq.get('x-y')!).toBeGreaterThan(1.5 * freq.get('y-z')!);
  });

  it('puts either model first, ignores models outside the list, and needs two models', () => {
    const rand = seededRandom(3);
    const firsts = new Set<string>();
    for (let i = 0; i < 50; i++) firsts.add(nextPair(['x', 'y'], [cmp('x', 'gone', 'a')], rand)[0]);
    expect([...firsts].sort()).toEqual(['x', 'y']);
    expect(() => nextPair(['x', 'x'], [])).toThrow(/at least two models/);
  });
});

describe('gaming flags', () => {
  const client = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  const vote = (c: string, winner: Winner, decideMs = 3000, a = 'x', b = 'y') => ({ client: c, winner, decideMs, a, b });

  it('flags a client whose 20+ votes all pick one side, and drops all of its votes', () => {
    const votes = [...Array.from({ length: 20 }, () => vote(client(1), 'a')), ...Array.from({ length: 19 }, () => vote(client(2), 'b')), ...Array.from({ length: 25 }, (_, i) => vote(client(3), i === 0 ? 'tie' : 'a'))];
    const { flags, kept } = gamingFlags(votes);
    expect(flags).toEqual([{ kind: 'same_side', client: client(1), votes: 20, side: 'a' }]);
    expect(kept.length).toBe(19 + 25);
    expect(gamingFlags(votes, { sameSideMinVotes: 19 }).flags.map((f) => f.client)).toEqual([client(1), client(2)]);
  });

  it('flags sub-second votes one by one and keeps the client’s other votes', () => {
    const votes = [vote(client(4), 'a', 999), vote(client(4), 'b', 1000), vote(client(4), 'tie', 200), vote(client(5), 'a', 5000)];
    const { flags, kept } = gamingFlags(votes);
    expect(flags).toEqual([{ kind: 'sub_second', client: client(4), votes: 2 }]);
    expect(kept).toEqual([votes[1], votes[3]]);
  });

  it('leaderboardFromVotes rates only the unflagged votes', () => {
    const honest = simulateVotes({ ratings: { x: 1100, y: 1000, z: 900 }, count: 300, seed: 9 });
    const gamed = [...Array.from({ length: 30 }, () => vote(client(6), 'a', 2000, 'z', 'x')), ...Array.from({ length: 10 }, () => vote(client(7), 'a', 300, 'z', 'x'))];
    const lb = leaderboardFromVotes([...honest, ...gamed], { bootstrap: 100, seed: 5 });
    expect(lb.totalVotes).toBe(340);
    expect(lb.excludedVotes).toBe(40);
    expect(lb.models).toEqual(leaderboard(honest, { bootstrap: 100, seed: 5 }));
    expect(lb.positionBias).toEqual(positionBias(honest));
    expect(lb.flags.map((f) => f.kind)).toEqual(['same_side', 'sub_second']);
  });
});
