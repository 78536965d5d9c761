// The podcast pipeline end to end in Node, on a synthetic episode whose events are known to the millisecond:
// espeak-ng speech in two voices, laughter-like bursts, applause-like noise, jingles, a music break and a test tone.
// Decoding is native ffmpeg on the same byte slices the worker hands ffmpeg.wasm; the VAD is silero through our seam.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyseFile, levelAt, nativeSliceDecoder, readFixtureWav, type AnalysedFile } from './podcast-helpers';
import { classRuns, SOUND_CLASSES } from '../../src/features/podcast/episode';
import { decodeRange } from '../../src/features/podcast/analyse';
import { scoreSegments, THEMES, type ThemeId } from '../../src/features/podcast/themes';
import { clipReelStarts, reelDuration, selectReel, CROSSFADE_S } from '../../src/features/podcast/select';
import { reelChapters } from '../../src/features/podcast/chapters';
import { joinWithCrossfades } from '../../src/features/podcast/reel-audio';
import { MAX_SEGMENT_S, MIN_SEGMENT_S, snapCut } from '../../src/features/podcast/segments';
// @ts-expect-error plain ESM script without types
import { generatePodcastFixtures, PODCAST_FIXTURE_DIR } from '../fixtures/podcast-episode.mjs';

interface Event {
  kind: string;
  start: number;
  end: number;
  section?: string;
}
interface Manifest {
  episode: { durationS: number; events: Event[] };
  short: { durationS: number };
  noSpeech: { durationS: number };
}

let manifest: Manifest;
let ep: AnalysedFile;
let source: Float32Array;
const RATE = 44100;
const fixture = (name: string) => join(PODCAST_FIXTURE_DIR, name);

beforeAll(async () => {
  manifest = generatePodcastFixtures() as Manifest;
  // 60 s chunks: the 2-minute episode is analysed in pieces, as a long one is, so the joins are tested too.
  ep = await analyseFile(fixture('episode.mp3'), 'episode.mp3', 60);
  source = readFixtureWav(fixture('episode.wav'));
}, 180_000);

const overlap = (a0: number, a1: number, b0: number, b1: number) => Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));

describe('podcast analysis of a synthetic episode', () => {
  it('reads the MP3 as indexed frames and gets its length right', () => {
    expect(ep.source.kind).toBe('mp3');
    expect(ep.warnings).toEqual([]);
    expect(ep.source.durationS).toBeCloseTo(manifest.episode.durationS, 1);
  });

  it('finds speech where espeak spoke: every turn after a pause of ≥ 0.9 s starts and ends within 0.3 s of the truth', () => {
    const events = manifest.episode.events;
    const speech = classRuns(ep.analysis, 'speech');
    // Speech runs joined over short gaps (word and comma pauses), as a listener hears a turn.
    const turns: [number, number][] = [];
    for (const r of speech) {
      const last = turns[turns.length - 1];
      if (last && r[0] - last[1] < 0.7) last[1] = r[1];
      else turns.push([...r]);
    }
    let checked = 0;
    events.forEach((e, i) => {
      if (e.kind !== 'speech') return;
      const gapBefore = i > 0 ? e.start - events[i - 1].end : Infinity;
      const gapAfter = i + 1 < events.length ? events[i + 1].start - e.end : Infinity;
      if (gapBefore >= 0.9) {
        const nearest = Math.min(...turns.map(([a]) => Math.abs(a - e.start)));
        expect(nearest, `speech onset at ${e.start.toFixed(2)} s`).toBeLessThan(0.3);
        checked++;
      }
      if (gapAfter >= 0.9) {
        const nearest = Math.min(...turns.map(([, b]) => Math.abs(b - e.end)));
        expect(nearest, `speech end at ${e.end.toFixed(2)} s`).toBeLessThan(0.3);
        checked++;
      }
    });
    expect(checked).toBe(13);
  });

  it('labels laughter, applause, music and the test tone where the script put them', () => {
    const a = ep.analysis;
    for (const e of manifest.episode.events) {
      const cls = e.kind === 'speech' || e.kind === 'silence' ? null : e.kind;
      if (!cls) continue;
      const runs = classRuns(a, cls as (typeof SOUND_CLASSES)[number]);
      const covered = runs.reduce((s, [r0, r1]) => s + overlap(r0, r1, e.start, e.end), 0);
      expect(covered / (e.end - e.start), `${cls} at ${e.start.toFixed(1)}–${e.end.toFixed(1)} s`).toBeGreaterThan(0.6);
    }
    // And nothing else is called laughter or music: every such run lies in a true event of its kind.
    for (const cls of ['laughter', 'music', 'applause'] as const) {
      for (const [r0, r1] of classRuns(a, cls)) {
        const inTruth = manifest.episode.events.filter((e) => e.kind === cls).reduce((s, e) => s + overlap(r0, r1, e.start - 0.3, e.end + 0.3), 0);
        expect(inTruth / (r1 - r0), `${cls} run at ${r0.toFixed(1)}–${r1.toFixed(1)} s`).toBeGreaterThan(0.8);
      }
    }
  });

  it('cuts 5–60 s segments only in quiet gaps: the level at every cut is far below speech', () => {
    const { segments } = ep.structure;
    expect(segments.length).toBeGreaterThanOrEqual(6);
    for (const s of segments) {
      expect(s.end - s.start).toBeGreaterThanOrEqual(MIN_SEGMENT_S);
      expect(s.end - s.start).toBeLessThanOrEqual(MAX_SEGMENT_S);
      for (const t of [s.start, s.end]) {
        if (t < 0.05 || t > manifest.episode.durationS - 0.05) continue;
        expect(levelAt(source, RATE, t), `level at the cut at ${t.toFixed(2)} s`).toBeLessThan(-40);
      }
    }
  });

  it("ranks each theme's best segment in the section written for it", () => {
    const sectionOf = (t0: number, t1: number) => {
      const byOverlap = new Map<string, number>();
      for (const e of manifest.episode.events) if (e.section) byOverlap.set(e.section, (byOverlap.get(e.section) ?? 0) + overlap(t0, t1, e.start, e.end));
      return [...byOverlap].sort((x, y) => y[1] - x[1])[0][0];
    };
    const top = (id: ThemeId) => {
      const scores = scoreSegments(ep.structure.segments, id);
      const best = [...ep.structure.segments].sort((a, b) => scores.get(b.id)! - scores.get(a.id)!)[0];
      return sectionOf(best.start, best.end);
    };
    expect(top('heated')).toBe('heated');
    expect(top('laughs')).toBe('laughs');
    expect(['jingle', 'music-break']).toContain(top('music'));
    expect(top('calm')).toBe('calm');
    expect(['laughs', 'heated']).toContain(top('best-of'));
  });
});

describe('podcast reel selection and rendering', () => {
  const targets: [ThemeId, number][] = [
    ['best-of', 30],
    ['best-of', 47.3],
    ['heated', 40],
    ['calm', 35],
    ['best-of', 60],
  ];

  it.each(targets)('%s reel of %d s lands within ±1 s after crossfades, measured on the rendered audio', async (themeId, target) => {
    const plan = selectReel(ep.structure.segments, themeId, target, { episodeName: 'episode.mp3', episodeDurationS: ep.source.durationS });
    expect(plan.message).toBeNull();
    expect(Math.abs(plan.durationS - target)).toBeLessThanOrEqual(1);
    // Render from the MP3 at full quality, as the reel worker does, and measure the result.
    const decode = nativeSliceDecoder(fixture('episode.mp3'), 'mp3');
    const parts = [];
    for (const c of plan.clips) parts.push((await decodeRange(decode, ep.source, c.start, c.end, RATE, 2)).channels);
    const reel = joinWithCrossfades(parts, Math.round(CROSSFADE_S * RATE));
    expect(Math.abs(reel[0].length / RATE - target)).toBeLessThanOrEqual(1);
    // Clips in episode order, no cut inside speech: the source is quiet at every cut.
    for (let i = 1; i < plan.clips.length; i++) expect(plan.clips[i].start).toBeGreaterThan(plan.clips[i - 1].end);
    for (const c of plan.clips) {
      for (const t of [c.start, c.end]) expect(levelAt(source, RATE, t), `cut at ${t.toFixed(2)} s`).toBeLessThan(-40);
    }
  });

  it('writes Podcasting 2.0 chapters that match the reel and the source', () => {
    const plan = selectReel(ep.structure.segments, 'best-of', 45);
    const ch = reelChapters(plan, { episodeName: 'episode.mp3', title: 'Best of' });
    expect(ch.version).toBe('1.2.0');
    expect(ch.chapters.length).toBe(plan.clips.length);
    const starts = clipReelStarts(plan);
    ch.chapters.forEach((c, i) => {
      expect(c.startTime).toBeCloseTo(starts[i], 2);
      expect(c.sourceStartTime).toBeCloseTo(plan.clips[i].start, 2);
      expect(c.sourceEndTime).toBeCloseTo(plan.clips[i].end, 2);
      expect(c.endTime).toBeGreaterThan(c.startTime);
      if (i > 0) expect(c.startTime).toBeCloseTo(ch.chapters[i - 1].endTime, 3);
      expect(c.title).toMatch(/^Highlight: \d+:\d\d–\d+:\d\d of episode\.mp3$/);
    });
    expect(ch.chapters[0].startTime).toBe(0);
    expect(ch.chapters.at(-1)!.endTime).toBeCloseTo(plan.durationS, 2);
    // Each chapter's reel span is its clip less the crossfade into the next.
    expect(ch.chapters.at(-1)!.endTime).toBeCloseTo(reelDuration(plan.clips, plan.crossfadeS), 2);
  });

  it('places an intro and an outro in the chapters and the length', () => {
    const plan = selectReel(ep.structure.segments, 'heated', 40, { introS: 5, outroS: 4 });
    expect(Math.abs(plan.durationS - 40)).toBeLessThanOrEqual(1);
    const ch = reelChapters(plan);
    expect(ch.chapters[0]).toMatchObject({ startTime: 0, title: 'Intro' });
    expect(ch.chapters[1].startTime).toBeCloseTo(5 - CROSSFADE_S, 3);
    expect(ch.chapters.at(-1)).toMatchObject({ title: 'Outro' });
    expect(ch.chapters.at(-1)!.startTime).toBeCloseTo(plan.durationS - 4, 3);
  });

  it('every theme has a description and a formula, and scores every segment', () => {
    for (const t of THEMES) {
      expect(t.description.length).toBeGreaterThan(20);
      expect(t.formula.length).toBeGreaterThan(20);
      const scores = scoreSegments(ep.structure.segments, t.id);
      expect(scores.size).toBe(ep.structure.segments.length);
      for (const v of scores.values()) expect(Number.isFinite(v)).toBe(true);
    }
  });
});

describe('podcast bad input', () => {
  it('a 0-byte file fails with a message naming it', async () => {
    await expect(analyseFile(fixture('empty.mp3'), 'empty.mp3')).rejects.toThrow('empty.mp3: the file is empty (0 bytes)');
  });

  it('a file that is not audio fails with a message naming it', async () => {
    await expect(analyseFile(fixture('manifest.json'), 'notes.mp3')).rejects.toThrow(/^notes\.mp3: /);
  });

  it('a truncated MP3 is analysed as far as it goes, with a warning', async () => {
    const t = await analyseFile(fixture('truncated.mp3'), 'truncated.mp3');
    expect(t.warnings.join(' ')).toMatch(/ends mid-frame.*were used/);
    expect(t.source.durationS).toBeGreaterThan(0.55 * manifest.episode.durationS);
    expect(t.source.durationS).toBeLessThan(0.65 * manifest.episode.durationS);
    expect(t.structure.segments.length).toBeGreaterThan(2);
    const plan = selectReel(t.structure.segments, 'best-of', 30);
    expect(Math.abs(plan.durationS - 30)).toBeLessThanOrEqual(1);
  });

  it('an episode without speech says so, and the music theme still finds its music', async () => {
    const n = await analyseFile(fixture('no-speech.mp3'), 'no-speech.mp3');
    const speechBlocks = n.analysis.classes.filter((c) => SOUND_CLASSES[c] === 'speech').length;
    expect(speechBlocks * 0.2).toBeLessThan(1);
    const talk = selectReel(n.structure.segments, 'best-of', 30, { episodeName: 'no-speech.mp3', episodeDurationS: n.source.durationS });
    expect(talk.clips).toEqual([]);
    expect(talk.message).toBe('no-speech.mp3: nothing in the episode fits the Best Of theme; try another theme.');
    const music = selectReel(n.structure.segments, 'music', 20, { episodeName: 'no-speech.mp3', episodeDurationS: n.source.durationS });
    expect(Math.abs(music.durationS - 20)).toBeLessThanOrEqual(1);
  });

  it('an episode shorter than the target gives a clear message and a reel of what exists', async () => {
    const s = await analyseFile(fixture('short.mp3'), 'short.mp3');
    const plan = selectReel(s.structure.segments, 'best-of', 90, { episodeName: 'short.mp3', episodeDurationS: s.source.durationS });
    expect(plan.message).toMatch(/^short\.mp3: the episode is only 0:\d\d long, shorter than the 1:30 reel asked for; the reel holds what it has \(0:\d\d\)\.$/);
    expect(plan.clips.length).toBeGreaterThan(0);
    expect(plan.durationS).toBeGreaterThan(0.5 * s.source.durationS);
    expect(plan.durationS).toBeLessThanOrEqual(s.source.durationS);
  });
});

describe('edited cuts', () => {
  it('snap into the nearest pause, so a typed or dragged edge never lands in a word', () => {
    const { pauses } = ep.structure;
    const inMusic = (t: number) => manifest.episode.events.some((e) => e.kind === 'music' && t > e.start - 1.5 && t < e.end + 1.5);
    for (let t = 10; t < 120; t += 3.7) {
      // Music has no pauses to snap to; a cut there is a crossfade in music, not a cut word.
      if (inMusic(t)) continue;
      const s = snapCut(ep.analysis, pauses, t);
      expect(Math.abs(s - t)).toBeLessThanOrEqual(1.5);
      expect(levelAt(source, RATE, s), `edge typed at ${t.toFixed(1)} s went to ${s.toFixed(2)} s`).toBeLessThan(-40);
    }
  });
});
