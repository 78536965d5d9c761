// Long audio in overlapping segments: each segment is separated on its own (bounding the intermediate tensors to a
// few segments' worth) and the results are joined by raised-cosine crossfades centred in each overlap. The weights
// of neighbouring segments sum to one, so stems that sum to each segment's input still sum to the whole input.

export interface Segment {
  start: number;
  end: number;
  /** The crossfade with the previous segment: weight rises from 0 at fadeInStart to 1 at fadeInEnd (none for the first). */
  fadeInStart: number;
  fadeInEnd: number;
  /** The crossfade with the next segment (none for the last): falls from 1 at fadeOutStart to 0 at fadeOutEnd. */
  fadeOutStart: number;
  fadeOutEnd: number;
}

export interface SegmentPlanOptions {
  /** Samples per segment. */
  segment: number;
  /** Samples shared by neighbouring segments. */
  overlap: number;
  /** Samples of crossfade, centred in the overlap (≤ overlap). */
  fade: number;
  /** Segment starts are multiples of this (e.g. the STFT hop, so every segment's frames fall on one grid). */
  align?: number;
}

/** Segments covering [0, length); one segment when it fits. */
export function planSegments(length: number, opts: SegmentPlanOptions): Segment[] {
  const align = opts.align ?? 1;
  if (!(opts.fade <= opts.overlap && opts.overlap < opts.segment)) throw new RangeError(`need fade ≤ overlap < segment, got ${opts.fade}, ${opts.overlap}, ${opts.segment}`);
  const stride = Math.floor((opts.segment - opts.overlap) / align) * align;
  // Each overlap must end before the next begins, so a segment's two crossfades never meet.
  if (stride <= 0 || 2 * stride < opts.segment) throw new RangeError(`segment ${opts.segment} and overlap ${opts.overlap} leave too short a stride (${stride}) at alignment ${align}`);
  const starts: number[] = [0];
  while (starts[starts.length - 1] + opts.segment < length) starts.push(starts[starts.length - 1] + stride);
  const segs: Segment[] = starts.map((start) => ({ start, end: Math.min(length, start + opts.segment), fadeInStart: start, fadeInEnd: start, fadeOutStart: length, fadeOutEnd: length }));
  for (let i = 1; i < segs.length; i++) {
    const prev = segs[i - 1];
    const cur = segs[i];
    const mid = (cur.start + prev.end) / 2;
    const a = Math.round(mid - opts.fade / 2);
    const b = a + opts.fade;
    cur.fadeInStart = a;
    cur.fadeInEnd = b;
    prev.fadeOutStart = a;
    prev.fadeOutEnd = b;
  }
  return segs;
}

/** Raised-cosine rise from 0 at a to 1 at b, evaluated at sample n (0 before, 1 after). */
function rise(n: number, a: number, b: number): number {
  if (n < a) return 0;
  if (n >= b) return 1;
  return 0.5 - 0.5 * Math.cos((Math.PI * (n - a + 0.5)) / (b - a));
}

/** The weight of a segment at each of its samples (absolute sample start … end). */
export function segmentWeights(seg: Segment): Float32Array {
  const w = new Float32Array(seg.end - seg.start);
  for (let i = 0; i < w.length; i++) {
    const n = seg.start + i;
    // The next segment's rise at n is exactly 1 − this fall, so the pair sums to one.
    w[i] = rise(n, seg.fadeInStart, seg.fadeInEnd) * (1 - rise(n, seg.fadeOutStart, seg.fadeOutEnd));
  }
  return w;
}

/** Adds a segment's result into `out` (the whole length), weighted by its crossfades. */
export function addSegment(out: Float32Array, part: Float32Array, seg: Segment, weights: Float32Array = segmentWeights(seg)): void {
  for (let i = 0; i < weights.length; i++) out[seg.start + i] += part[i] * weights[i];
}

/** The overlap that keeps a `fade`-sample crossfade at least `context` samples from either end of its overlap. */
export function overlapFor(context: number, fade: number): number {
  return fade + 2 * context;
}
