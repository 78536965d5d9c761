// Candidate segments: the episode cut only in the low-level gaps between phrases, into 5–60 s pieces.
//
// 1. Pauses: runs ≥ MIN_PAUSE_S of 10 ms frames quieter than both the silence gate and 30 dB under the local
//    loud level (p90 of the surrounding seconds). A cut may fall anywhere inside a pause, CUT_MARGIN_S from
//    its edges, so no word is ever cut.
// 2. Units: what lies between two pauses; each gets its main sound class and, for speech, its median pitch.
// 3. Boundaries are scored: wider pauses, a change of sound class or of speaker make strong boundaries; a
//    laugh is glued to the line before it; dead air (≥ 2 s) always ends a segment.
// 4. A dynamic programme partitions each stretch between dead air into segments of 5–60 s that end on strong
//    boundaries, preferring ~20 s.
// 5. Each segment keeps natural pauses: up to LEAD_S of its opening pause and TAIL_S of its closing one.
import { LEVEL_HOP_S, SPEC_HOP_S } from './features';
import { BLOCK_S, SOUND_CLASSES, type EpisodeAnalysis, type SoundClass } from './episode';

export const MIN_PAUSE_S = 0.15;
export const CUT_MARGIN_S = 0.02;
export const LEAD_S = 0.3;
export const TAIL_S = 0.4;
/** The most of a pause a cut may keep when a reel is fitted to its length: longer would be dead air. */
export const MAX_KEEP_S = 0.8;
export const MIN_SEGMENT_S = 5;
export const MAX_SEGMENT_S = 60;
const PREFERRED_S = 20;
const DEAD_AIR_S = 2;
/** Cost of each segment, so boundaries must be worth it (each scores its strength). */
const SEGMENT_COST = 2.5;
/** Cost per second of leaving a unit out of every candidate, by class: speech is worth keeping, a test tone is not. */
const SKIP_COST: Partial<Record<SoundClass, number>> = { speech: 0.4, laughter: 0.6, music: 0.3, applause: 0.2 };
const SKIP_COST_OTHER = 0.02;
/** Cost per second of steady tone inside a segment: a test tone or hum is nothing to keep in a highlight. */
const TONE_COST = 1;

export interface Pause {
  /** Quiet from start to end (seconds). */
  start: number;
  end: number;
}

export interface SegmentFeatures {
  durationS: number;
  /** Share of the segment's blocks in each class. */
  speechRatio: number;
  musicRatio: number;
  silenceRatio: number;
  /** Seconds of laughter in the segment or within REACTION_S after it; seconds of applause likewise. */
  laughterS: number;
  applauseS: number;
  /** Mean 10 ms level over the segment's sound (dBFS): a loudness proxy. */
  levelMeanDb: number;
  /** Spread of the 0.5 s level over its sound (dB): dynamics. */
  levelStdDb: number;
  /** Mean pitch (Hz) and its spread (semitones) over voiced speech: intonation, the "excitement" cue. */
  pitchMeanHz: number;
  pitchStdSt: number;
  /** Syllable-like level peaks per second of speech. */
  speechRate: number;
  /** Speaker changes per minute (pitch jumps between phrases). */
  turnRate: number;
  /** Mean spectral flux (onsets). */
  fluxMean: number;
}

export interface Segment {
  id: number;
  /** Source times of the cut (seconds), inside the opening and closing pauses. */
  start: number;
  end: number;
  /** How far each cut may move, still inside its pause: [earliest, latest]. */
  startRange: [number, number];
  endRange: [number, number];
  /** The segment's main sound class. */
  kind: SoundClass;
  features: SegmentFeatures;
  /** Pauses inside the segment where it may be shortened. */
  innerPauses: Pause[];
}

export interface EpisodeStructure {
  pauses: Pause[];
  segments: Segment[];
}

/** Seconds after a segment in which a laugh or applause still counts as a reaction to it. */
export const REACTION_S = 3;

/** Pauses: runs of quiet 10 ms frames (see the header). */
export function findPauses(a: Pick<EpisodeAnalysis, 'levelDb' | 'gateDb'>): Pause[] {
  const lv = a.levelDb;
  const perSecond = Math.round(1 / LEVEL_HOP_S);
  const bins = Math.ceil(lv.length / perSecond);
  // Loud reference per second: the 90th percentile of its level.
  const p90 = new Float32Array(bins);
  for (let b = 0; b < bins; b++) {
    const second = lv.slice(b * perSecond, Math.min(lv.length, (b + 1) * perSecond)).sort();
    p90[b] = second.length ? second[Math.floor(second.length * 0.9)] : -120;
  }
  const quietBelow = new Float32Array(bins);
  for (let b = 0; b < bins; b++) {
    let ref = -120;
    for (let k = Math.max(0, b - 3); k <= Math.min(bins - 1, b + 3); k++) ref = Math.max(ref, p90[k]);
    quietBelow[b] = Math.max(a.gateDb, ref - 30);
  }
  const minFrames = Math.round(MIN_PAUSE_S / LEVEL_HOP_S);
  const pauses: Pause[] = [];
  let start = -1;
  for (let i = 0; i <= lv.length; i++) {
    const quiet = i < lv.length && lv[i] < quietBelow[Math.floor(i / perSecond)];
    if (quiet && start < 0) start = i;
    if (!quiet && start >= 0) {
      if (i - start >= minFrames || start === 0 || i === lv.length) pauses.push({ start: start * LEVEL_HOP_S, end: i * LEVEL_HOP_S });
      start = -1;
    }
  }
  return pauses;
}

interface Unit {
  start: number;
  end: number;
  kind: SoundClass;
  pitchHz: number;
}

function classCounts(a: Pick<EpisodeAnalysis, 'classes'>, from: number, to: number): number[] {
  const counts = new Array<number>(SOUND_CLASSES.length).fill(0);
  for (let b = Math.max(0, Math.floor(from / BLOCK_S)); b < Math.min(a.classes.length, Math.ceil(to / BLOCK_S)); b++) counts[a.classes[b]]++;
  return counts;
}

function mainClass(a: Pick<EpisodeAnalysis, 'classes'>, from: number, to: number): SoundClass {
  const counts = classCounts(a, from, to);
  let best = 0;
  for (let k = 1; k < counts.length; k++) if (counts[k] > counts[best] || (best === 0 && counts[k] > 0)) best = k;
  return SOUND_CLASSES[best];
}

function medianPitch(a: Pick<EpisodeAnalysis, 'pitchHz'>, from: number, to: number): number {
  const v: number[] = [];
  for (let i = Math.max(0, Math.floor(from / SPEC_HOP_S)); i < Math.min(a.pitchHz.length, Math.ceil(to / SPEC_HOP_S)); i++) if (a.pitchHz[i] > 0) v.push(a.pitchHz[i]);
  if (v.length < 5) return 0;
  v.sort((x, y) => x - y);
  return v[v.length >> 1];
}

function speakerChange(u: Unit, v: Unit): boolean {
  return u.kind === 'speech' && v.kind === 'speech' && u.pitchHz > 0 && v.pitchHz > 0 && Math.abs(12 * Math.log2(u.pitchHz / v.pitchHz)) > 4;
}

/** How good a cut the pause between units u and v is (higher is better; negative: keep them together). */
function boundaryStrength(p: Pause, u: Unit | null, v: Unit | null): number {
  const width = p.end - p.start;
  if (!u || !v || width >= DEAD_AIR_S) return 10;
  let s = Math.max(0, Math.min(4, Math.log2(width / MIN_PAUSE_S)));
  if (u.kind !== v.kind && u.kind !== 'silence' && v.kind !== 'silence') s += 2;
  if (speakerChange(u, v)) s += 1.5;
  // A laugh belongs to the line that got it.
  if (v.kind === 'laughter' && u.kind !== 'laughter') s -= 8;
  return s;
}

/** The pauses where a cut may fall, with a cut forced at the quietest point of any stretch longer than MAX_SEGMENT_S. */
function cutPauses(a: Pick<EpisodeAnalysis, 'levelDb' | 'durationS'>, pauses: Pause[]): Pause[] {
  const out: Pause[] = [];
  let prevEnd = 0;
  const force = (from: number, to: number) => {
    // Quietest 40 ms in the middle half of the stretch.
    const i0 = Math.floor((from + (to - from) / 4) / LEVEL_HOP_S);
    const i1 = Math.ceil((to - (to - from) / 4) / LEVEL_HOP_S);
    let best = i0;
    let bestDb = Infinity;
    for (let i = i0; i + 4 <= i1; i++) {
      const db = Math.max(a.levelDb[i], a.levelDb[i + 1], a.levelDb[i + 2], a.levelDb[i + 3]);
      if (db < bestDb) {
        bestDb = db;
        best = i;
      }
    }
    out.push({ start: best * LEVEL_HOP_S, end: (best + 4) * LEVEL_HOP_S });
  };
  for (const p of [...pauses, { start: a.durationS, end: a.durationS }]) {
    let from = prevEnd;
    while (p.start - from > MAX_SEGMENT_S) {
      force(from, from + MAX_SEGMENT_S);
      from = out[out.length - 1].end;
    }
    if (p.end > p.start || p.start >= a.durationS) out.push(p);
    prevEnd = p.end;
  }
  // The episode's own edges are cuts too.
  if (!out.length || out[0].start > 0) out.unshift({ start: 0, end: 0 });
  const last = out[out.length - 1];
  if (last.end < a.durationS) out.push({ start: a.durationS, end: a.durationS });
  return out;
}

function cutStart(p: Pause): number {
  return p.end - p.start <= 2 * CUT_MARGIN_S ? p.end : Math.max(p.start + CUT_MARGIN_S, p.end - LEAD_S);
}

function cutEnd(p: Pause): number {
  return p.end - p.start <= 2 * CUT_MARGIN_S ? p.start : Math.min(p.end - CUT_MARGIN_S, p.start + TAIL_S);
}

/** Where a segment's opening cut may sit in pause p: inside it, keeping at most MAX_KEEP_S of it. */
function startRange(p: Pause): [number, number] {
  if (p.end - p.start <= 2 * CUT_MARGIN_S) return [p.end, p.end];
  return [Math.max(p.start + CUT_MARGIN_S, p.end - MAX_KEEP_S), p.end - CUT_MARGIN_S];
}

function endRange(p: Pause): [number, number] {
  if (p.end - p.start <= 2 * CUT_MARGIN_S) return [p.start, p.start];
  return [p.start + CUT_MARGIN_S, Math.min(p.end - CUT_MARGIN_S, p.start + MAX_KEEP_S)];
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0;
}

function std(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
}

/** Seconds of `cls` blocks within [from, to). */
function classSeconds(a: Pick<EpisodeAnalysis, 'classes'>, cls: SoundClass, from: number, to: number): number {
  return classCounts(a, from, to)[SOUND_CLASSES.indexOf(cls)] * BLOCK_S;
}

// Linear power of each 10 ms frame, computed once per analysis: segment features sum it many times.
const powerCache = new WeakMap<Float32Array, Float32Array>();
function framePower(levelDb: Float32Array): Float32Array {
  let p = powerCache.get(levelDb);
  if (!p) {
    p = new Float32Array(levelDb.length);
    for (let i = 0; i < p.length; i++) p[i] = Math.pow(10, levelDb[i] / 10);
    powerCache.set(levelDb, p);
  }
  return p;
}

/** The features every theme scores (see SegmentFeatures), over [start, end) of the episode. */
export function segmentFeatures(a: EpisodeAnalysis, start: number, end: number, units: Unit[] = []): SegmentFeatures {
  const power = framePower(a.levelDb);
  const counts = classCounts(a, start, end);
  const blocks = Math.max(1, counts.reduce((s, c) => s + c, 0));
  const ratio = (c: SoundClass) => counts[SOUND_CLASSES.indexOf(c)] / blocks;
  const l0 = Math.floor(start / LEVEL_HOP_S);
  const l1 = Math.min(a.levelDb.length, Math.ceil(end / LEVEL_HOP_S));
  let soundPower = 0;
  let soundFrames = 0;
  for (let i = l0; i < l1; i++) {
    if (a.levelDb[i] > a.gateDb) {
      soundPower += power[i];
      soundFrames++;
    }
  }
  // Level in 0.5 s steps (energy mean in dB) for the dynamics spread.
  const halfSeconds: number[] = [];
  for (let i = l0; i + 50 <= l1; i += 50) {
    let e = 0;
    for (let k = i; k < i + 50; k++) e += power[k];
    const db = 10 * Math.log10(e / 50);
    if (db > a.gateDb) halfSeconds.push(db);
  }
  const speechBlocks = SOUND_CLASSES.indexOf('speech');
  const pitches: number[] = [];
  let flux = 0;
  let fluxN = 0;
  for (let i = Math.floor(start / SPEC_HOP_S); i < Math.min(a.pitchHz.length, Math.ceil(end / SPEC_HOP_S)); i++) {
    const block = Math.floor((i * SPEC_HOP_S) / BLOCK_S);
    if (a.pitchHz[i] > 0 && a.classes[block] === speechBlocks) pitches.push(12 * Math.log2(a.pitchHz[i] / 100));
    flux += a.flux[i];
    fluxN++;
  }
  // Syllable nuclei: 10 ms level peaks at least 4 dB over the dips within ±100 ms, ≥ 100 ms apart, in speech.
  let peaks = 0;
  let lastPeak = -Infinity;
  for (let i = l0 + 10; i < l1 - 10; i++) {
    const v = a.levelDb[i];
    // Cheap tests first: a local maximum above the gate, in speech.
    if (v <= a.gateDb || v < a.levelDb[i - 1] || v < a.levelDb[i + 1] || a.classes[Math.floor((i * LEVEL_HOP_S) / BLOCK_S)] !== speechBlocks) continue;
    let isMax = true;
    let lo = Infinity;
    for (let k = i - 10; k <= i + 10; k++) {
      if (a.levelDb[k] > v) isMax = false;
      lo = Math.min(lo, a.levelDb[k]);
    }
    if (isMax && v - lo >= 4 && i - lastPeak >= 10) {
      peaks++;
      lastPeak = i;
    }
  }
  const speechS = ratio('speech') * blocks * BLOCK_S;
  let turns = 0;
  // Units are in time order: find the first that may lie inside by bisection.
  let lo = 0;
  let hi = units.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (units[mid].start < start - 0.01) lo = mid + 1;
    else hi = mid;
  }
  const inside: Unit[] = [];
  for (let k = lo; k < units.length && units[k].start <= end; k++) if (units[k].end <= end + 0.01 && units[k].kind === 'speech') inside.push(units[k]);
  for (let k = 1; k < inside.length; k++) if (speakerChange(inside[k - 1], inside[k])) turns++;
  const durationS = end - start;
  return {
    durationS,
    speechRatio: ratio('speech'),
    musicRatio: ratio('music'),
    silenceRatio: ratio('silence'),
    laughterS: classSeconds(a, 'laughter', start, end + REACTION_S),
    applauseS: classSeconds(a, 'applause', start, end + REACTION_S),
    levelMeanDb: soundFrames ? 10 * Math.log10(soundPower / soundFrames) : -120,
    levelStdDb: std(halfSeconds),
    pitchMeanHz: pitches.length ? 100 * Math.pow(2, mean(pitches) / 12) : 0,
    pitchStdSt: std(pitches),
    speechRate: speechS > 1 ? peaks / speechS : 0,
    turnRate: durationS > 0 ? (turns * 60) / durationS : 0,
    fluxMean: fluxN ? flux / fluxN : 0,
  };
}

/** Pauses, then segments (see the header). */
export function segmentEpisode(a: EpisodeAnalysis): EpisodeStructure {
  const pauses = findPauses(a);
  const cuts = cutPauses(a, pauses);
  const units: Unit[] = [];
  // unitAfter[k]: the unit between cut k and cut k + 1, if there is sound between them.
  const unitAfter: (Unit | null)[] = cuts.map(() => null);
  for (let k = 0; k + 1 < cuts.length; k++) {
    const s = cuts[k].end;
    const e = cuts[k + 1].start;
    if (e <= s) continue;
    const u: Unit = { start: s, end: e, kind: mainClass(a, s, e), pitchHz: medianPitch(a, s, e) };
    units.push(u);
    unitAfter[k] = u;
  }
  const strength = cuts.map((p, k) => boundaryStrength(p, k > 0 ? unitAfter[k - 1] : null, unitAfter[k]));
  // Seconds of steady tone before each cut, so a segment's share of it is a difference.
  const toneBefore = new Float64Array(cuts.length);
  for (let k = 1; k < cuts.length; k++) {
    const u = unitAfter[k - 1];
    toneBefore[k] = toneBefore[k - 1] + (u ? classSeconds(a, 'tone', u.start, u.end) : 0);
  }

  const segments: Segment[] = [];
  // Stretches between dead air (or the episode's edges) are partitioned independently.
  const hard = cuts.map((p, k) => k === 0 || k === cuts.length - 1 || p.end - p.start >= DEAD_AIR_S);
  let from = 0;
  for (let k = 1; k < cuts.length; k++) {
    if (!hard[k]) continue;
    partition(from, k);
    from = k;
  }

  function partition(i0: number, i1: number): void {
    // best[j]: lowest cost of segments from cut i0 to cut j; prev[j]: the cut before j.
    const n = i1 - i0 + 1;
    const best = new Float64Array(n).fill(Infinity);
    const prev = new Int32Array(n).fill(-1);
    best[0] = 0;
    // skipped[j]: the step into cut j left the unit before it out of every segment.
    const skipped = new Uint8Array(n);
    const length = (i: number, j: number) => cutEnd(cuts[j]) - cutStart(cuts[i]);
    for (let j = 1; j < n; j++) {
      const u = unitAfter[i0 + j - 1];
      if (u || j === 1) {
        const skip = best[j - 1] + (u ? (u.end - u.start) * (SKIP_COST[u.kind] ?? SKIP_COST_OTHER) : 0);
        if (skip < best[j]) {
          best[j] = skip;
          prev[j] = j - 1;
          skipped[j] = 1;
        }
      } else if (best[j - 1] < best[j]) {
        // No sound between the two cuts: nothing to keep or skip.
        best[j] = best[j - 1];
        prev[j] = j - 1;
        skipped[j] = 1;
      }
      for (let i = j - 1; i >= 0; i--) {
        const d = length(i0 + i, i0 + j);
        if (d > MAX_SEGMENT_S) break;
        if (d < MIN_SEGMENT_S) continue;
        const junk = (toneBefore[i0 + j] - toneBefore[i0 + i]) * TONE_COST;
        const c = best[i] + SEGMENT_COST + junk - strength[i0 + j] + 2 * ((d - PREFERRED_S) / PREFERRED_S) ** 2;
        if (c < best[j]) {
          best[j] = c;
          prev[j] = i;
          skipped[j] = 0;
        }
      }
    }
    const ends: number[] = [];
    const starts: number[] = [];
    for (let j = n - 1; j > 0; j = prev[j]) {
      if (skipped[j]) continue;
      ends.push(j);
      starts.push(prev[j]);
    }
    ends.reverse();
    starts.reverse();
    for (const [e, j] of ends.entries()) {
      const i = starts[e];
      const ci = cuts[i0 + i];
      const cj = cuts[i0 + j];
      const start = cutStart(ci);
      const end = cutEnd(cj);
      const innerPauses = cuts.slice(i0 + i + 1, i0 + j).filter((p) => p.start > start && p.end < end);
      // A stretch shorter than a segment (a lone 2 s tone between silences) is no candidate.
      if (end - start < MIN_SEGMENT_S) continue;
      const kind = mainClass(a, start, end);
      if (kind === 'silence') continue;
      segments.push({
        id: segments.length,
        start,
        end,
        startRange: startRange(ci),
        endRange: endRange(cj),
        kind,
        features: segmentFeatures(a, start, end, units),
        innerPauses,
      });
    }
  }
  return { pauses, segments };
}

/** The quietest 10 ms point within ±radiusS of t (for snapping a dragged edge out of a word). */
export function snapToQuiet(a: Pick<EpisodeAnalysis, 'levelDb' | 'durationS'>, t: number, radiusS = 0.3): number {
  const i0 = Math.max(0, Math.floor((t - radiusS) / LEVEL_HOP_S));
  const i1 = Math.min(a.levelDb.length - 1, Math.ceil((t + radiusS) / LEVEL_HOP_S));
  let best = Math.round(t / LEVEL_HOP_S);
  let bestDb = Infinity;
  for (let i = i0; i <= i1; i++) {
    // Ties go to the point nearest to where the user let go.
    const db = a.levelDb[i] + 0.01 * Math.abs(i * LEVEL_HOP_S - t);
    if (db < bestDb) {
      bestDb = db;
      best = i;
    }
  }
  return Math.max(0, Math.min(a.durationS, (best + 0.5) * LEVEL_HOP_S));
}

/**
 * Where an edited cut goes: the nearest point inside a pause within ±radiusS of t (so no word is cut), else the
 * quietest 10 ms within ±0.3 s.
 */
export function snapCut(a: Pick<EpisodeAnalysis, 'levelDb' | 'durationS'>, pauses: readonly Pause[], t: number, radiusS = 1.5): number {
  // First pause that ends after t − radius (pauses are in time order).
  let lo = 0;
  let hi = pauses.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pauses[mid].end < t - radiusS) lo = mid + 1;
    else hi = mid;
  }
  let best = NaN;
  for (let k = lo; k < pauses.length && pauses[k].start <= t + radiusS; k++) {
    const p = pauses[k];
    const inside = p.end - p.start > 2 * CUT_MARGIN_S ? Math.min(p.end - CUT_MARGIN_S, Math.max(p.start + CUT_MARGIN_S, t)) : (p.start + p.end) / 2;
    if (Number.isNaN(best) || Math.abs(inside - t) < Math.abs(best - t)) best = inside;
  }
  return Number.isNaN(best) || Math.abs(best - t) > radiusS ? snapToQuiet(a, t) : best;
}
