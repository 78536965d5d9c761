// Themes and reel selection on synthetic segment features: the rankings a theme promises, the exact length of
// the reel on many random episodes, the edits, and the crossfade join.
import { describe, expect, it } from 'vitest';
import { scoreSegments, THEMES, type ThemeId } from '../../src/features/podcast/themes';
import { addClip, clipReelStarts, mergeClips, refit, reelDuration, removeClip, selectReel, setClipBounds, swapClip, CROSSFADE_S } from '../../src/features/podcast/select';
import { joinWithCrossfades, joinedLength } from '../../src/features/podcast/reel-audio';
import type { Segment, SegmentFeatures } from '../../src/features/podcast/segments';
import type { SoundClass } from '../../src/features/podcast/episode';
// @ts-expect-error plain ESM script without types
import { rng } from '../fixtures/podcast-episode.mjs';

const BASE: SegmentFeatures = {
  durationS: 20,
  speechRatio: 0.85,
  musicRatio: 0,
  silenceRatio: 0.1,
  laughterS: 0,
  applauseS: 0,
  levelMeanDb: -18,
  levelStdDb: 3,
  pitchMeanHz: 150,
  pitchStdSt: 4,
  speechRate: 4,
  turnRate: 2,
  fluxMean: 4,
};

let nextId = 0;
function segment(start: number, f: Partial<SegmentFeatures>, kind: SoundClass = 'speech', innerPauses: [number, number][] = []): Segment {
  const durationS = f.durationS ?? BASE.durationS;
  const end = start + durationS;
  return {
    id: nextId++,
    start,
    end,
    // Each cut sits in a pause 0.6 s wide that it may move within.
    startRange: [start - 0.3, start + 0.28],
    endRange: [end - 0.28, end + 0.3],
    kind,
    features: { ...BASE, ...f, durationS },
    innerPauses: innerPauses.map(([a, b]) => ({ start: start + a, end: start + b })),
  };
}

describe('themes rank the segments they describe', () => {
  const segs = [
    segment(0, {}),
    segment(30, { levelMeanDb: -9, speechRate: 6.5, turnRate: 9, pitchMeanHz: 210, pitchStdSt: 6, silenceRatio: 0.02, durationS: 35 }),
    segment(80, { levelMeanDb: -27, speechRate: 2.6, levelStdDb: 1.5, pitchStdSt: 2, turnRate: 0, silenceRatio: 0.18 }),
    segment(110, { laughterS: 3.2, pitchStdSt: 6 }),
    segment(140, { speechRatio: 0, musicRatio: 0.9, fluxMean: 6 }, 'music'),
    segment(170, { levelMeanDb: -19, speechRate: 3.8 }),
  ];
  const top = (id: ThemeId) => {
    const s = scoreSegments(segs, id);
    return [...segs].sort((a, b) => s.get(b.id)! - s.get(a.id)!)[0].start;
  };
  it.each([
    ['heated', 30],
    ['calm', 80],
    ['laughs', 110],
    ['music', 140],
  ] as [ThemeId, number][])('%s puts the segment at %d s first', (id, start) => {
    expect(top(id)).toBe(start);
  });

  it('Best Of prefers lively, laughing moments over flat ones and over music', () => {
    const s = scoreSegments(segs, 'best-of');
    expect(s.get(segs[3].id)!).toBeGreaterThan(s.get(segs[0].id)!);
    expect(s.get(segs[1].id)!).toBeGreaterThan(s.get(segs[5].id)!);
    expect(s.get(segs[4].id)!).toBeLessThan(s.get(segs[0].id)!);
  });

  it('scores do not depend on the recording level: z-scores over the episode', () => {
    const louder = segs.map((s) => ({ ...s, features: { ...s.features, levelMeanDb: s.features.levelMeanDb + 12 } }));
    for (const t of THEMES) {
      const a = scoreSegments(segs, t.id);
      const b = scoreSegments(louder, t.id);
      for (const s of segs) expect(b.get(s.id)!).toBeCloseTo(a.get(s.id)!, 9);
    }
  });
});

/** A random long episode: segments of 5–60 s back to back, with inner pauses, and random features. */
function randomEpisode(seed: number, minutes: number): Segment[] {
  const r = rng(seed) as () => number;
  const out: Segment[] = [];
  let t = 0.5;
  while (t < minutes * 60) {
    const d = 5 + r() * 45;
    const inner: [number, number][] = [];
    for (let p = 2 + r() * 4; p < d - 2; p += 2 + r() * 6) inner.push([p, p + 0.2 + r() * 0.5]);
    const music = r() < 0.08;
    out.push(
      segment(
        t,
        {
          durationS: d,
          speechRatio: music ? 0.05 : 0.6 + 0.4 * r(),
          musicRatio: music ? 0.8 : 0,
          laughterS: r() < 0.15 ? 1 + 3 * r() : 0,
          levelMeanDb: -28 + 16 * r(),
          levelStdDb: 1 + 5 * r(),
          pitchStdSt: 1 + 6 * r(),
          speechRate: 2.5 + 4 * r(),
          turnRate: 10 * r(),
        },
        music ? 'music' : 'speech',
        inner,
      ),
    );
    t += d + 0.6 + r();
  }
  return out;
}

describe('selection hits the target length', () => {
  it.each([
    [90, 60],
    [300, 180],
    [137.5, 60],
    [45, 20],
  ])('a %d s reel from random %d-minute episodes is within ±1 s, for every theme, on 12 episodes', (target, minutes) => {
    let worst = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const segs = randomEpisode(seed * 7919 + target, minutes);
      for (const t of THEMES) {
        const plan = selectReel(segs, t.id, target);
        if (plan.message) {
          // Only a theme without enough material may miss, and it must say so.
          expect(plan.message).toMatch(/material was found|nothing in the episode/);
          continue;
        }
        const d = reelDuration(plan.clips, plan.crossfadeS);
        expect(d).toBeCloseTo(plan.durationS, 9);
        worst = Math.max(worst, Math.abs(d - target));
        // Episode order, cuts inside their pauses.
        for (let i = 1; i < plan.clips.length; i++) expect(plan.clips[i].start).toBeGreaterThan(plan.clips[i - 1].end);
        for (const c of plan.clips) {
          expect(c.start).toBeGreaterThanOrEqual(c.startRange[0] - 1e-9);
          expect(c.end).toBeLessThanOrEqual(c.endRange[1] + 1e-9);
        }
      }
    }
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('lands on the target to the millisecond when the pauses leave room', () => {
    const plan = selectReel(randomEpisode(42, 60), 'best-of', 90);
    expect(Math.abs(plan.durationS - 90)).toBeLessThan(0.001);
  });
});

describe('reel edits', () => {
  const segs = randomEpisode(5, 30);
  const plan = selectReel(segs, 'best-of', 90);

  it('removing a clip shortens the reel and says by how much it is off', () => {
    const key = plan.clips[0].key;
    const edited = removeClip(plan, key);
    expect(edited.clips.length).toBe(plan.clips.length - 1);
    expect(edited.durationS).toBeCloseTo(plan.durationS - (plan.clips[0].end - plan.clips[0].start) + CROSSFADE_S, 6);
    expect(edited.message).toMatch(/^The reel is now \d+:\d\d \(target 1:30\)/);
  });

  it('a region drawn over a clip merges with it; elsewhere it is a new clip in episode order', () => {
    const c = plan.clips[1];
    const merged = addClip(plan, c.start + 1, c.end + 2);
    expect(merged.clips.length).toBe(plan.clips.length);
    expect(merged.clips[1].end).toBeCloseTo(c.end + 2, 6);
    const freeAt = segs.find((s) => !plan.clips.some((k) => s.end > k.start - 1 && s.start < k.end + 1))!;
    const added = addClip(plan, freeAt.start, freeAt.start + 6);
    expect(added.clips.length).toBe(plan.clips.length + 1);
    expect(added.clips.map((k) => k.start)).toEqual([...added.clips.map((k) => k.start)].sort((a, b) => a - b));
  });

  it('dragging an edge sets the clip to what was dragged', () => {
    const c = plan.clips[0];
    const edited = setClipBounds(plan, c.key, c.start + 0.5, c.end - 1);
    const e = edited.clips.find((k) => Math.abs(k.start - (c.start + 0.5)) < 1e-9)!;
    expect(e.end).toBeCloseTo(c.end - 1, 9);
    expect(e.manual).toBe(true);
  });

  it('swap brings in the best candidate not yet in the reel, near the old clip’s length', () => {
    const key = plan.clips[0].key;
    const swapped = swapClip(plan, key, segs)!;
    expect(swapped.clips.some((k) => k.key === key)).toBe(false);
    const scores = scoreSegments(segs, 'best-of');
    const newIds = swapped.clips.flatMap((k) => k.segmentIds).filter((id) => !plan.clips.some((k) => k.segmentIds.includes(id)));
    expect(newIds.length).toBe(1);
    const unused = segs.filter((s) => !plan.clips.some((k) => s.end > k.start && s.start < k.end) && s.features.speechRatio >= 0.3);
    expect(scores.get(newIds[0])).toBe(Math.max(...unused.map((s) => scores.get(s.id)!)));
  });

  it('refit moves cuts within their pauses back toward the target', () => {
    const c = plan.clips[0];
    const nudged = setClipBounds(plan, c.key, c.start, c.end + 0.2);
    const fixed = refit({ ...nudged, clips: nudged.clips.map((k) => (k.key === c.key ? { ...k, endRange: [c.endRange[0], c.end + 0.2] as [number, number] } : k)) });
    expect(Math.abs(fixed.durationS - 90)).toBeLessThan(0.01);
  });

  it('clip start times in the reel account for every crossfade', () => {
    const starts = clipReelStarts(plan);
    for (let i = 1; i < plan.clips.length; i++) expect(starts[i] - starts[i - 1]).toBeCloseTo(plan.clips[i - 1].end - plan.clips[i - 1].start - CROSSFADE_S, 9);
  });

  it('mergeClips joins clips that touch in the episode', () => {
    const a = { ...plan.clips[0], start: 10, end: 20 };
    const b = { ...plan.clips[1], start: 20.02, end: 30, key: 'b' };
    expect(mergeClips([b, a]).map((k) => [k.start, k.end])).toEqual([[10, 30]]);
  });
});

describe('crossfade join', () => {
  it('is as long as its parts less one fade per join, and continuous through each fade', () => {
    const rate = 1000;
    const fade = 100;
    const parts = [1500, 800, 2000].map((n, k) => [Float32Array.from({ length: n }, () => (k % 2 ? -0.5 : 0.5))]);
    const out = joinWithCrossfades(parts, fade);
    expect(out[0].length).toBe(joinedLength([1500, 800, 2000], fade));
    expect(out[0].length).toBe(4300 - 200);
    // Equal-power gains: the fade from +0.5 to −0.5 passes through 0 once, smoothly.
    const seg = out[0].subarray(1400, 1500);
    for (let i = 1; i < seg.length; i++) expect(seg[i]).toBeLessThanOrEqual(seg[i - 1] + 1e-7);
    expect(out[0][0]).toBe(0.5);
    expect(out[0][out[0].length - 1]).toBe(0.5);
  });

  it('keeps the power of uncorrelated material through a fade', () => {
    const r = rng(9) as () => number;
    const noise = (n: number) => [Float32Array.from({ length: n }, () => r() * 2 - 1)];
    const out = joinWithCrossfades([noise(20000), noise(20000)], 10000);
    const rms = (a: number, b: number) => Math.sqrt(out[0].subarray(a, b).reduce((s, x) => s + x * x, 0) / (b - a));
    const inFade = rms(12000, 18000);
    const outside = rms(0, 8000);
    expect(Math.abs(20 * Math.log10(inFade / outside))).toBeLessThan(0.5);
  });
});
