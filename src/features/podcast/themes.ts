// The five themes: each a documented scoring function over a segment's features (segments.ts).
//
// Features enter as z-scores against the episode's own segments (z(x) = (x − mean) / std over the
// candidates), so "loud" means loud for this episode and every theme works on quiet and hot recordings
// alike. Counts of seconds (laughter, applause) and shares (speech, music) enter as they are.
import type { Segment, SegmentFeatures } from './segments';

export type ThemeId = 'best-of' | 'heated' | 'laughs' | 'music' | 'calm';

export interface Theme {
  id: ThemeId;
  label: string;
  /** What the theme looks for, as the UI explains it. */
  description: string;
  /** The scoring function, as a formula the UI and README show. */
  formula: string;
  /** A label for a chosen segment in the chapters. */
  chapterLabel: string;
  score: (f: SegmentFeatures, z: (k: ZKey) => number) => number;
}

export type ZKey = 'levelMeanDb' | 'levelStdDb' | 'pitchMeanHz' | 'pitchStdSt' | 'speechRate' | 'turnRate' | 'fluxMean' | 'durationS';
const Z_KEYS: readonly ZKey[] = ['levelMeanDb', 'levelStdDb', 'pitchMeanHz', 'pitchStdSt', 'speechRate', 'turnRate', 'fluxMean', 'durationS'];

/** Penalty for a speech theme's segment that is not mostly speech. */
const notSpeech = (f: SegmentFeatures) => 3 * Math.max(0, 0.7 - f.speechRatio);
const capped = (x: number, cap: number) => Math.min(x, cap);

export const THEMES: readonly Theme[] = [
  {
    id: 'best-of',
    label: 'Best Of',
    description: 'The most engaging moments overall: lively intonation and dynamics, quick delivery, back-and-forth, laughs.',
    formula: '0.8·z(pitch spread) + 0.6·z(level spread) + 0.6·z(speech rate) + 0.5·z(turn rate) + 0.3·z(level) + 0.6·min(laughter s, 4) + 0.2·min(applause s, 4) − 3·max(0, 0.7 − speech share) − 2·music share − 2·silence share',
    chapterLabel: 'Highlight',
    score: (f, z) =>
      0.8 * z('pitchStdSt') + 0.6 * z('levelStdDb') + 0.6 * z('speechRate') + 0.5 * z('turnRate') + 0.3 * z('levelMeanDb') +
      0.6 * capped(f.laughterS, 4) + 0.2 * capped(f.applauseS, 4) - notSpeech(f) - 2 * f.musicRatio - 2 * f.silenceRatio,
  },
  {
    id: 'heated',
    label: 'Heated',
    description: 'Long, high-energy, fast stretches: loud, rapid speech, quick turns between speakers, few pauses.',
    formula: '1.0·z(level) + 0.9·z(speech rate) + 0.7·z(turn rate) + 0.5·z(pitch) + 0.4·z(pitch spread) + 0.4·z(duration) − 4·silence share − 3·max(0, 0.7 − speech share) − 2·music share',
    chapterLabel: 'Heated exchange',
    score: (f, z) =>
      1.0 * z('levelMeanDb') + 0.9 * z('speechRate') + 0.7 * z('turnRate') + 0.5 * z('pitchMeanHz') + 0.4 * z('pitchStdSt') + 0.4 * z('durationS') -
      4 * f.silenceRatio - notSpeech(f) - 2 * f.musicRatio,
  },
  {
    id: 'laughs',
    label: 'Laughs',
    description: 'Moments around laughter: the line that got the laugh, and the laugh.',
    formula: '1.5·min(laughter s, 6) + 0.5·speech share + 0.2·z(pitch spread) − 2·music share − (no laughter: 5)',
    chapterLabel: 'Laughs',
    score: (f, z) => 1.5 * capped(f.laughterS, 6) + 0.5 * f.speechRatio + 0.2 * z('pitchStdSt') - 2 * f.musicRatio - (f.laughterS > 0 ? 0 : 5),
  },
  {
    id: 'music',
    label: 'Music & Jingles',
    description: 'The non-speech musical parts: jingles, beds, breaks.',
    formula: '4·music share − 3·speech share + 0.3·z(flux) − 2·silence share',
    chapterLabel: 'Music',
    score: (f, z) => 4 * f.musicRatio - 3 * f.speechRatio + 0.3 * z('fluxMean') - 2 * f.silenceRatio,
  },
  {
    id: 'calm',
    label: 'Calm',
    description: 'Quiet, reflective talk: soft, slow, even speech without laughter, applause or music.',
    formula: '−1.0·z(level) − 0.8·z(speech rate) − 0.5·z(level spread) − 0.5·z(pitch spread) − 0.4·z(turn rate) − 3·max(0, 0.7 − speech share) − 2·music share − 0.8·min(laughter + applause s, 4) − 2·max(0, silence share − 0.3)',
    chapterLabel: 'Calm talk',
    score: (f, z) =>
      -1.0 * z('levelMeanDb') - 0.8 * z('speechRate') - 0.5 * z('levelStdDb') - 0.5 * z('pitchStdSt') - 0.4 * z('turnRate') -
      notSpeech(f) - 2 * f.musicRatio - 0.8 * capped(f.laughterS + f.applauseS, 4) - 2 * Math.max(0, f.silenceRatio - 0.3),
  },
];

export function theme(id: ThemeId): Theme {
  const t = THEMES.find((x) => x.id === id);
  if (!t) throw new Error(`Unknown theme "${id}"; the themes are ${THEMES.map((x) => x.id).join(', ')}.`);
  return t;
}

/** Each segment's score under a theme, by segment id; z-scores are taken over these segments. */
export function scoreSegments(segments: readonly Pick<Segment, 'id' | 'features'>[], id: ThemeId): Map<number, number> {
  const t = theme(id);
  const stats = new Map<ZKey, { mean: number; std: number }>();
  for (const k of Z_KEYS) {
    // Pitch and speech rate are only meaningful where someone speaks: their statistics skip the rest.
    const xs = segments.filter((s) => !(k === 'pitchMeanHz' || k === 'pitchStdSt' || k === 'speechRate') || s.features.speechRatio > 0.3).map((s) => s.features[k]);
    const mean = xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
    const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
    stats.set(k, { mean, std });
  }
  const scores = new Map<number, number>();
  for (const s of segments) {
    const z = (k: ZKey) => {
      const st = stats.get(k)!;
      // A feature that does not vary says nothing; clamp so one outlier cannot own a theme.
      return st.std > 1e-9 ? Math.max(-3, Math.min(3, (s.features[k] - st.mean) / st.std)) : 0;
    };
    scores.set(s.id, t.score(s.features, z));
  }
  return scores;
}
