// Note-level transcription scores as mir_eval.transcription computes them: a reference and an estimated note match when
// their pitches agree (within 50 cents, so the same MIDI key here) and their onsets lie within 50 ms; the matching is a
// maximum bipartite matching (mir_eval uses Hopcroft–Karp; Kuhn's augmenting paths give the same size), so precision,
// recall and F-measure count each note at most once. With `offsets`, an offset must also lie within
// max(50 ms, 20 % of the reference note's duration), as mir_eval's default offset_ratio 0.2 requires.

export interface ScoredNote {
  pitch: number;
  start: number;
  duration: number;
}

export interface NoteScores {
  precision: number;
  recall: number;
  f: number;
  matched: number;
  reference: number;
  estimated: number;
}

export interface NoteMatchOptions {
  onsetTolerance?: number;
  pitchToleranceCents?: number;
  offsets?: boolean;
  offsetRatio?: number;
  offsetMinTolerance?: number;
}

export function noteScores(reference: readonly ScoredNote[], estimated: readonly ScoredNote[], opts: NoteMatchOptions = {}): NoteScores {
  const onsetTol = opts.onsetTolerance ?? 0.05;
  const pitchTol = (opts.pitchToleranceCents ?? 50) / 100;
  const offsetRatio = opts.offsetRatio ?? 0.2;
  const offsetMin = opts.offsetMinTolerance ?? 0.05;
  // mir_eval compares with a small epsilon so that a difference of exactly the tolerance still matches.
  const eps = 1e-9;
  const candidates: number[][] = reference.map((r) => {
    const out: number[] = [];
    estimated.forEach((e, j) => {
      if (Math.abs(e.pitch - r.pitch) > pitchTol + eps) return;
      if (Math.abs(e.start - r.start) > onsetTol + eps) return;
      if (opts.offsets) {
        const tol = Math.max(offsetMin, offsetRatio * r.duration);
        if (Math.abs(e.start + e.duration - (r.start + r.duration)) > tol + eps) return;
      }
      out.push(j);
    });
    return out;
  });
  const owner = new Int32Array(estimated.length).fill(-1);
  const tryMatch = (i: number, seen: Uint8Array): boolean => {
    for (const j of candidates[i]) {
      if (seen[j]) continue;
      seen[j] = 1;
      if (owner[j] < 0 || tryMatch(owner[j], seen)) {
        owner[j] = i;
        return true;
      }
    }
    return false;
  };
  let matched = 0;
  for (let i = 0; i < reference.length; i++) if (candidates[i].length && tryMatch(i, new Uint8Array(estimated.length))) matched++;
  const precision = estimated.length ? matched / estimated.length : 0;
  const recall = reference.length ? matched / reference.length : 0;
  const f = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f, matched, reference: reference.length, estimated: estimated.length };
}
