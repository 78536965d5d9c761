// Turning scored segments into a reel of an exact length, and the edits a user makes to it.
//
// The reel plays its clips in episode order, joined by CROSSFADE_S equal-power crossfades (all cuts sit in
// pauses, so a short fade is inaudible), with an optional intro and outro joined the same way. Its length is
// Σ clip lengths + intro + outro − crossfades. Selection:
// 1. ranks the theme's relevant segments by score and adds each that still fits (target + tolerance);
//    segments that touch in the episode merge into one clip, with no crossfade between them;
// 2. if time is left, adds the best-ranked piece of an unused segment, cut at one of its inner pauses, that
//    fits what is left;
// 3. closes the last gap by moving cuts within their pauses (each cut may sit anywhere in its pause), so
//    the reel lands on the target to a few milliseconds whenever the pauses allow, and within ±1 s anyway.
import { CUT_MARGIN_S, LEAD_S, MAX_KEEP_S, TAIL_S, type Pause, type Segment } from './segments';
import { scoreSegments, theme, type ThemeId } from './themes';

export const CROSSFADE_S = 0.1;
export const TOLERANCE_S = 1;
/** Adjacent clips closer than this in the episode are one clip. */
const TOUCH_S = 0.05;
/** Pieces cut from a segment to fill the last gap may be this short. */
const MIN_PIECE_S = 3;

export interface ReelClip {
  /** Stable within a reel, for the UI's keyed lists and regions. */
  key: string;
  /** The candidate segments this clip covers (empty for a region drawn by hand). */
  segmentIds: number[];
  /** Source times (seconds) of the cuts. */
  start: number;
  end: number;
  /** How far each cut may move and stay in its pause. */
  startRange: [number, number];
  endRange: [number, number];
  score: number;
  /** Chapter title stem: the theme's label for what this clip is. */
  label: string;
  manual: boolean;
}

export interface ReelPlan {
  theme: ThemeId;
  targetS: number;
  crossfadeS: number;
  introS: number;
  outroS: number;
  clips: ReelClip[];
  durationS: number;
  /** Said to the user when the reel cannot be what was asked (too little material, an edit moved it off target). */
  message: string | null;
}

export interface SelectOptions {
  crossfadeS?: number;
  introS?: number;
  outroS?: number;
  toleranceS?: number;
  /** The episode's file name, for messages. */
  episodeName?: string;
  episodeDurationS?: number;
}

/** What a theme needs a segment to contain to be worth choosing at all. */
function relevant(themeId: ThemeId, s: Segment): boolean {
  const f = s.features;
  if (themeId === 'laughs') return f.laughterS > 0;
  if (themeId === 'music') return f.musicRatio >= 0.3;
  return f.speechRatio >= 0.3;
}

export function formatTime(s: number): string {
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}

/** The reel's length: clips plus intro and outro, less a crossfade at every join. */
export function reelDuration(clips: readonly Pick<ReelClip, 'start' | 'end'>[], crossfadeS: number, introS = 0, outroS = 0): number {
  const parts = clips.length + (introS > 0 ? 1 : 0) + (outroS > 0 ? 1 : 0);
  if (parts === 0) return 0;
  return clips.reduce((s, c) => s + (c.end - c.start), 0) + introS + outroS - (parts - 1) * crossfadeS;
}

function clipOf(s: Segment, score: number, label: string, start = s.start, end = s.end, startRange = s.startRange, endRange = s.endRange): ReelClip {
  return { key: `s${s.id}-${start.toFixed(2)}`, segmentIds: [s.id], start, end, startRange, endRange, score, label, manual: false };
}

/** Sorts by time and merges clips that touch or overlap in the episode. */
export function mergeClips(clips: ReelClip[]): ReelClip[] {
  const sorted = [...clips].sort((a, b) => a.start - b.start);
  const out: ReelClip[] = [];
  for (const c of sorted) {
    const last = out[out.length - 1];
    if (last && c.start <= last.end + TOUCH_S) {
      if (c.end > last.end) {
        last.end = c.end;
        last.endRange = c.endRange;
      }
      last.segmentIds = [...new Set([...last.segmentIds, ...c.segmentIds])];
      last.score = Math.max(last.score, c.score);
      last.manual = last.manual || c.manual;
      continue;
    }
    out.push({ ...c, segmentIds: [...c.segmentIds], startRange: [...c.startRange], endRange: [...c.endRange] });
  }
  return out;
}

/** Pieces of a segment bounded by its inner pauses (and its own cuts), each at least MIN_PIECE_S long. */
function pieces(s: Segment): { start: number; end: number; startRange: [number, number]; endRange: [number, number] }[] {
  const bounds: { at: number; asStart: number; asEnd: number; range: [number, number] }[] = [
    { at: s.start, asStart: s.start, asEnd: s.start, range: s.startRange },
    ...s.innerPauses.map((p: Pause) => ({
      at: (p.start + p.end) / 2,
      asStart: Math.max(p.start + CUT_MARGIN_S, p.end - LEAD_S),
      asEnd: Math.min(p.end - CUT_MARGIN_S, p.start + TAIL_S),
      // An inner pause is usually short; a piece cut there keeps its natural length of it.
      range: [Math.max(p.start + CUT_MARGIN_S, p.end - MAX_KEEP_S), Math.min(p.end - CUT_MARGIN_S, p.start + MAX_KEEP_S)] as [number, number],
    })),
    { at: s.end, asStart: s.end, asEnd: s.end, range: s.endRange },
  ];
  const out = [];
  for (let i = 0; i < bounds.length; i++) {
    for (let j = i + 1; j < bounds.length; j++) {
      if (i === 0 && j === bounds.length - 1) continue;
      const start = bounds[i].asStart;
      const end = bounds[j].asEnd;
      if (end - start >= MIN_PIECE_S) out.push({ start, end, startRange: bounds[i].range, endRange: bounds[j].range });
    }
  }
  return out;
}

/**
 * Pieces to fill a gap of `want` seconds: a speech segment is cut only at its inner pauses; music and other
 * non-speech can be cut anywhere (a crossfade hides a cut in music), so its opening piece of the wanted length is
 * offered too, with an end that may still move.
 */
function piecesFor(s: Segment, want: number): ReturnType<typeof pieces> {
  const out = pieces(s);
  if (s.features.speechRatio < 0.3 && want >= MIN_PIECE_S && s.start + want < s.end) {
    out.unshift({ start: s.start, end: s.start + want, startRange: s.startRange, endRange: [s.start + MIN_PIECE_S, s.end] });
  }
  return out;
}

/**
 * Moves cuts inside their pauses to bring the reel's length toward the target (see the header, step 3).
 * Returns the clips with their new cuts.
 */
export function fitToTarget(clips: ReelClip[], targetS: number, crossfadeS: number, introS = 0, outroS = 0): ReelClip[] {
  const out = clips.map((c) => ({ ...c }));
  let residual = targetS - reelDuration(out, crossfadeS, introS, outroS);
  // Lengthen: start earlier / end later; shorten: the reverse. Earlier clips first, each cut as far as its pause
  // allows, and never into the neighbouring clip's share of a pause they both border.
  for (const [k, c] of out.entries()) {
    if (Math.abs(residual) < 1e-4) break;
    if (residual > 0) {
      const nextStart = k + 1 < out.length ? out[k + 1].start - 2 * TOUCH_S : Infinity;
      const prevEnd = k > 0 ? out[k - 1].end + 2 * TOUCH_S : -Infinity;
      const e = Math.min(residual, Math.max(0, Math.min(c.endRange[1], nextStart) - c.end));
      c.end += e;
      residual -= e;
      const s = Math.min(residual, Math.max(0, c.start - Math.max(c.startRange[0], prevEnd)));
      c.start -= s;
      residual -= s;
    } else {
      const e = Math.min(-residual, Math.max(0, c.end - Math.max(c.endRange[0], c.start + 1)));
      c.end -= e;
      residual += e;
      const s = Math.min(-residual, Math.max(0, Math.min(c.startRange[1], c.end - 1) - c.start));
      c.start += s;
      residual += s;
    }
  }
  return out;
}

function shortfallMessage(themeId: ThemeId, found: number, targetS: number, opts: SelectOptions): string {
  const what = theme(themeId).label;
  const name = opts.episodeName ? `${opts.episodeName}: ` : '';
  if (opts.episodeDurationS !== undefined && opts.episodeDurationS < targetS) {
    return `${name}the episode is only ${formatTime(opts.episodeDurationS)} long, shorter than the ${formatTime(targetS)} reel asked for; the reel holds what it has (${formatTime(found)}).`;
  }
  if (found === 0) return `${name}nothing in the episode fits the ${what} theme; try another theme.`;
  return `${name}only ${formatTime(found)} of ${what} material was found for a ${formatTime(targetS)} reel; the reel holds what exists.`;
}

/** Chooses the reel for a theme and target length (see the header). */
export function selectReel(segments: readonly Segment[], themeId: ThemeId, targetS: number, opts: SelectOptions = {}): ReelPlan {
  const crossfadeS = opts.crossfadeS ?? CROSSFADE_S;
  const introS = opts.introS ?? 0;
  const outroS = opts.outroS ?? 0;
  const tol = opts.toleranceS ?? TOLERANCE_S;
  const scores = scoreSegments(segments, themeId);
  const label = theme(themeId).chapterLabel;
  const ranked = segments.filter((s) => relevant(themeId, s)).sort((a, b) => scores.get(b.id)! - scores.get(a.id)!);
  const total = (clips: ReelClip[]) => reelDuration(mergeClips(clips), crossfadeS, introS, outroS);

  let chosen: ReelClip[] = [];
  const used = new Set<number>();
  for (const s of ranked) {
    const trial = [...chosen, clipOf(s, scores.get(s.id)!, label)];
    if (total(trial) <= targetS + tol) {
      chosen = trial;
      used.add(s.id);
    }
  }
  // Fill what is left with the best piece of an unused segment.
  for (let round = 0; round < 4 && targetS - total(chosen) > tol; round++) {
    const gap = targetS - total(chosen);
    let best: ReelClip | null = null;
    let bestMiss = Infinity;
    for (const s of ranked) {
      if (used.has(s.id)) continue;
      for (const p of piecesFor(s, gap + crossfadeS)) {
        const trial = [...chosen, clipOf(s, scores.get(s.id)!, label, p.start, p.end, p.startRange, p.endRange)];
        const miss = Math.abs(targetS - total(trial));
        if (total(trial) > targetS + tol) continue;
        // Ranked order: the first piece that lands within tolerance wins; else the one that closes most of the gap.
        if (miss < bestMiss - 1e-9) {
          best = trial[trial.length - 1];
          bestMiss = miss;
        }
        if (miss <= tol) break;
      }
      if (bestMiss <= tol) break;
    }
    if (!best || bestMiss >= gap) break;
    chosen = [...chosen, best];
    used.add(best.segmentIds[0]);
  }
  // Fitting moves cuts by at most their pauses' slack: only worth it when the reel is near its target.
  const merged = mergeClips(chosen);
  const clips = Math.abs(targetS - reelDuration(merged, crossfadeS, introS, outroS)) <= 3 * tol ? fitToTarget(merged, targetS, crossfadeS, introS, outroS) : merged;
  const durationS = reelDuration(clips, crossfadeS, introS, outroS);
  const message = Math.abs(durationS - targetS) > tol ? shortfallMessage(themeId, Math.max(0, durationS - introS - outroS), targetS, opts) : null;
  return { theme: themeId, targetS, crossfadeS, introS, outroS, clips, durationS, message };
}

function withDuration(plan: ReelPlan, clips: ReelClip[]): ReelPlan {
  const merged = mergeClips(clips);
  const durationS = reelDuration(merged, plan.crossfadeS, plan.introS, plan.outroS);
  const off = durationS - plan.targetS;
  const message = Math.abs(off) > TOLERANCE_S ? `The reel is now ${formatTime(durationS)} (target ${formatTime(plan.targetS)}): ${off > 0 ? 'remove or shorten a clip' : 'add a region or swap in a longer clip'}, or fit it to the target.` : null;
  return { ...plan, clips: merged, durationS, message };
}

/** A dragged edge: the clip's source range is what the user set (snap it first), and its cut ranges follow. */
export function setClipBounds(plan: ReelPlan, key: string, start: number, end: number): ReelPlan {
  const clips = plan.clips.map((c) => (c.key === key ? { ...c, start, end, startRange: [start, start] as [number, number], endRange: [end, end] as [number, number], manual: true } : c));
  return withDuration(plan, clips);
}

export function removeClip(plan: ReelPlan, key: string): ReelPlan {
  return withDuration(plan, plan.clips.filter((c) => c.key !== key));
}

/** A region drawn by hand (snapped by the caller); it merges with any clip it overlaps. */
export function addClip(plan: ReelPlan, start: number, end: number): ReelPlan {
  const clip: ReelClip = { key: `m-${start.toFixed(2)}-${end.toFixed(2)}`, segmentIds: [], start, end, startRange: [start, start], endRange: [end, end], score: 0, label: 'Chosen by hand', manual: true };
  return withDuration(plan, [...plan.clips, clip]);
}

/**
 * Replaces a clip with the best-ranked candidate not in the reel, cut (at its inner pauses) to the removed clip's
 * length when it can be; null when no candidate is left.
 */
export function swapClip(plan: ReelPlan, key: string, segments: readonly Segment[]): ReelPlan | null {
  const old = plan.clips.find((c) => c.key === key);
  if (!old) return null;
  const scores = scoreSegments(segments, plan.theme);
  const label = theme(plan.theme).chapterLabel;
  const inReel = (s: Segment) => plan.clips.some((c) => s.end > c.start && s.start < c.end);
  const next = segments.filter((s) => relevant(plan.theme, s) && !inReel(s)).sort((a, b) => scores.get(b.id)! - scores.get(a.id)!)[0];
  if (!next) return null;
  const want = old.end - old.start;
  let clip = clipOf(next, scores.get(next.id)!, label);
  let miss = Math.abs(next.end - next.start - want);
  for (const p of pieces(next)) {
    const m = Math.abs(p.end - p.start - want);
    if (m < miss) {
      miss = m;
      clip = clipOf(next, scores.get(next.id)!, label, p.start, p.end, p.startRange, p.endRange);
    }
  }
  const rest = plan.clips.filter((c) => c.key !== key);
  const fitted = fitToTarget(mergeClips([...rest, clip]), plan.targetS, plan.crossfadeS, plan.introS, plan.outroS);
  return withDuration(plan, fitted);
}

/** Re-fits the current clips to the target by moving their cuts inside their pauses. */
export function refit(plan: ReelPlan): ReelPlan {
  return withDuration(plan, fitToTarget(plan.clips, plan.targetS, plan.crossfadeS, plan.introS, plan.outroS));
}

/** Where each clip starts in the reel (seconds), after the intro and the crossfades before it. */
export function clipReelStarts(plan: Pick<ReelPlan, 'clips' | 'crossfadeS' | 'introS'>): number[] {
  let t = plan.introS > 0 ? plan.introS - plan.crossfadeS : 0;
  return plan.clips.map((c) => {
    const at = t;
    t += c.end - c.start - plan.crossfadeS;
    return at;
  });
}
