// Decimation by two with a half-band FIR. Half of a half-band filter's taps are zero, so each output costs about
// side/2 + 1 multiplies. Two filters, each where its output is used:
// - SPEECH_HALF_BAND (8 taps a side): the VAD runs at 8 kHz on audio analysed at 16 kHz and needs only 3 kHz of passband;
// - FEATURE_HALF_BAND (16 taps a side): track features at 44.1 → 22.05 kHz, the filter mixnet's training features were
//   made with (the WebAssembly kernels use its taps too, with the centre tap fixed at ½).
import { besselI0 } from './kaiser';

type Samples = Float32Array | Float64Array;

export interface HalfBandFilter {
  /** Taps at odd distances 1, 3, …, 2·odd.length − 1 from the centre (index k ↔ distance 2k + 1). */
  readonly odd: Float64Array;
  readonly centre: number;
  /**
   * Writes outputs first, first + 1, … below end, all of whose reach lies inside x, unrolled for this filter's length;
   * returns the first output it did not write (the rest take the edge path).
   */
  readonly inside: (x: Samples, out: Float32Array, first: number, end: number, odd: Float64Array, centre: number) => number;
}

/**
 * A Kaiser-windowed half-band low-pass (cutoff at a quarter of the input rate), unity at DC: either every tap shares the
 * correction (`scaleAll`), or the centre stays exactly ½ and the odd taps take it, which keeps the filter a true half-band.
 */
function design(side: number, beta: number, dcGain: 'scaleAll' | 'keepCentre'): { odd: Float64Array; centre: number } {
  const odd = new Float64Array(side);
  const halfSpan = 2 * side;
  let sum = 0.5;
  for (let k = 0; k < side; k++) {
    const m = 2 * k + 1;
    const r = m / halfSpan;
    odd[k] = (Math.sin((Math.PI * m) / 2) / (Math.PI * m)) * (besselI0(beta * Math.sqrt(1 - r * r)) / besselI0(beta));
    sum += 2 * odd[k];
  }
  if (dcGain === 'keepCentre') {
    const scale = 0.5 / (sum - 0.5);
    for (let k = 0; k < side; k++) odd[k] *= scale;
    return { odd, centre: 0.5 };
  }
  for (let k = 0; k < side; k++) odd[k] /= sum;
  return { odd, centre: 0.5 / sum };
}

/**
 * Eight taps a side, in two partial sums (in double precision, so the float32 output matches the edge path's order of
 * additions to within an ulp): with the taps read from their array, the edge test inside and one chain of additions,
 * this loop took 2 CPU-s of an hour's analysis.
 */
function insideEight(x: Samples, out: Float32Array, first: number, end: number, odd: Float64Array, h: number): number {
  if (odd.length !== 8) throw new RangeError('this half-band loop is unrolled for 8 taps a side');
  const [t0, t1, t2, t3, t4, t5, t6, t7] = odd;
  for (let i = first, c = 2 * first; i < end; i++, c += 2) {
    const a = h * x[c] + t0 * (x[c - 1] + x[c + 1]) + t2 * (x[c - 5] + x[c + 5]) + t4 * (x[c - 9] + x[c + 9]) + t6 * (x[c - 13] + x[c + 13]);
    const b = t1 * (x[c - 3] + x[c + 3]) + t3 * (x[c - 7] + x[c + 7]) + t5 * (x[c - 11] + x[c + 11]) + t7 * (x[c - 15] + x[c + 15]);
    out[i] = a + b;
  }
  return end;
}

/**
 * Sixteen taps a side, two outputs per step (they share 31 of their 33 odd-offset samples), with the taps in locals and
 * the same sums in the same order as the edge path.
 */
function insideSixteen(x: Samples, out: Float32Array, first: number, end: number, taps: Float64Array, centre: number): number {
  if (taps.length !== 16) throw new RangeError('this half-band loop is unrolled for 16 taps a side');
  const h0 = taps[0], h1 = taps[1], h2 = taps[2], h3 = taps[3], h4 = taps[4], h5 = taps[5], h6 = taps[6], h7 = taps[7];
  const h8 = taps[8], h9 = taps[9], h10 = taps[10], h11 = taps[11], h12 = taps[12], h13 = taps[13], h14 = taps[14], h15 = taps[15];
  let n = first;
  for (; n + 1 < end; n += 2) {
    const c = 2 * n;
    // mK and pK are the samples K before and K after input c, the centre of output n; output n + 1 is centred on c + 2.
    const m31 = x[c - 31], m29 = x[c - 29], m27 = x[c - 27], m25 = x[c - 25], m23 = x[c - 23], m21 = x[c - 21], m19 = x[c - 19], m17 = x[c - 17];
    const m15 = x[c - 15], m13 = x[c - 13], m11 = x[c - 11], m9 = x[c - 9], m7 = x[c - 7], m5 = x[c - 5], m3 = x[c - 3], m1 = x[c - 1];
    const p1 = x[c + 1], p3 = x[c + 3], p5 = x[c + 5], p7 = x[c + 7], p9 = x[c + 9], p11 = x[c + 11], p13 = x[c + 13], p15 = x[c + 15];
    const p17 = x[c + 17], p19 = x[c + 19], p21 = x[c + 21], p23 = x[c + 23], p25 = x[c + 25], p27 = x[c + 27], p29 = x[c + 29], p31 = x[c + 31];
    const p33 = x[c + 33];
    out[n] =
      centre * x[c] + h0 * (m1 + p1) + h1 * (m3 + p3) + h2 * (m5 + p5) + h3 * (m7 + p7) + h4 * (m9 + p9) + h5 * (m11 + p11) + h6 * (m13 + p13) + h7 * (m15 + p15) +
      h8 * (m17 + p17) + h9 * (m19 + p19) + h10 * (m21 + p21) + h11 * (m23 + p23) + h12 * (m25 + p25) + h13 * (m27 + p27) + h14 * (m29 + p29) + h15 * (m31 + p31);
    out[n + 1] =
      centre * x[c + 2] + h0 * (p1 + p3) + h1 * (m1 + p5) + h2 * (m3 + p7) + h3 * (m5 + p9) + h4 * (m7 + p11) + h5 * (m9 + p13) + h6 * (m11 + p15) + h7 * (m13 + p17) +
      h8 * (m15 + p19) + h9 * (m17 + p21) + h10 * (m19 + p23) + h11 * (m21 + p25) + h12 * (m23 + p27) + h13 * (m25 + p29) + h14 * (m27 + p31) + h15 * (m29 + p33);
  }
  return n;
}

/** 8 taps a side, β 7: flat to 3 kHz and ≥ 50 dB of rejection above 5 kHz at 16 kHz in. */
export const SPEECH_HALF_BAND: HalfBandFilter = { ...design(8, 7, 'scaleAll'), inside: insideEight };
/** 16 taps a side, β 6: ~60 dB of alias rejection, plenty for features read in dB. */
export const FEATURE_HALF_BAND: HalfBandFilter = { ...design(16, 6, 'keepCentre'), inside: insideSixteen };

/** Outputs per call of the unrolled loop (even, so the pairwise loop starts on a pair). */
const DECIMATE_BLOCK = 16_384;

/** One output centred on x[c], reading zeros outside x (the edges). */
function edgeSample(x: Samples, c: number, odd: Float64Array, centre: number): number {
  const n = x.length;
  let acc = centre * x[c];
  for (let k = 0; k < odd.length; k++) {
    const d = 2 * k + 1;
    acc += odd[k] * ((c - d >= 0 ? x[c - d] : 0) + (c + d < n ? x[c + d] : 0));
  }
  return acc;
}

/**
 * Every other sample of the low-passed input (output i is centred on input 2i), so a signal of n samples at
 * rate R becomes ⌈n/2⌉ samples at R/2 aligned with it. Edges read zeros.
 */
export function decimateByTwo(x: Samples, filter: HalfBandFilter = SPEECH_HALF_BAND): Float32Array {
  const { odd, centre, inside } = filter;
  const out = new Float32Array((x.length + 1) >> 1);
  const reach = 2 * odd.length - 1;
  // Outputs [first, end) read only samples inside x: c − reach ≥ 0 and c + reach < n.
  const first = Math.min(out.length, Math.ceil(reach / 2));
  const end = Math.max(first, Math.min(out.length, Math.floor((x.length - 1 - reach) / 2) + 1));
  for (let i = 0; i < first; i++) out[i] = edgeSample(x, 2 * i, odd, centre);
  // Block by block: a call that ran over the whole track was seen to run 7× slower from the third track on in a
  // Chromium worker; short calls keep the loop's optimized code.
  let i = first;
  while (i < end) {
    const next = inside(x, out, i, Math.min(end, i + DECIMATE_BLOCK), odd, centre);
    if (next === i) break;
    i = next;
  }
  for (; i < out.length; i++) out[i] = edgeSample(x, 2 * i, odd, centre);
  return out;
}
