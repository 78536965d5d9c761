// Second-order sections for the console EQ (RBJ Audio-EQ-Cookbook) and any other fixed filter.
import type { EqBand } from '../shared/mix';

/** Coefficients normalised so that a0 == 1. */
export interface BiquadCoefficients {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

export const IDENTITY_COEFFICIENTS: Readonly<BiquadCoefficients> = { b0: 1, b1: 0, b2: 0, a1: 0, a2: 0 };

/** RBJ cookbook coefficients for a console EQ band at the given sample rate. */
export function biquadCoefficients(band: EqBand, sampleRate: number): BiquadCoefficients {
  // Keep the corner strictly inside (0, Nyquist) so tan/sin stay finite for any user value.
  const freq = Math.min(Math.max(band.freq, 1), sampleRate * 0.499);
  const q = Math.max(band.q, 1e-3);
  const A = Math.pow(10, band.gainDb / 40);
  const w0 = (2 * Math.PI * freq) / sampleRate;
  const cosW = Math.cos(w0);
  const alpha = Math.sin(w0) / (2 * q);
  let b0: number, b1: number, b2: number, a0: number, a1: number, a2: number;
  switch (band.type) {
    case 'peaking':
      b0 = 1 + alpha * A;
      b1 = -2 * cosW;
      b2 = 1 - alpha * A;
      a0 = 1 + alpha / A;
      a1 = -2 * cosW;
      a2 = 1 - alpha / A;
      break;
    case 'lowshelf': {
      const k = 2 * Math.sqrt(A) * alpha;
      b0 = A * (A + 1 - (A - 1) * cosW + k);
      b1 = 2 * A * (A - 1 - (A + 1) * cosW);
      b2 = A * (A + 1 - (A - 1) * cosW - k);
      a0 = A + 1 + (A - 1) * cosW + k;
      a1 = -2 * (A - 1 + (A + 1) * cosW);
      a2 = A + 1 + (A - 1) * cosW - k;
      break;
    }
    case 'highshelf': {
      const k = 2 * Math.sqrt(A) * alpha;
      b0 = A * (A + 1 + (A - 1) * cosW + k);
      b1 = -2 * A * (A - 1 + (A + 1) * cosW);
      b2 = A * (A + 1 + (A - 1) * cosW - k);
      a0 = A + 1 - (A - 1) * cosW + k;
      a1 = 2 * (A - 1 - (A + 1) * cosW);
      a2 = A + 1 - (A - 1) * cosW - k;
      break;
    }
    default:
      throw new Error(`Unknown EQ band type: ${String((band as EqBand).type)}`);
  }
  return { b0: b0 / a0, b1: b1 / a0, b2: b2 / a0, a1: a1 / a0, a2: a2 / a0 };
}

/** Analytic magnitude |H(e^jω)| in dB of a normalised biquad. */
export function biquadMagnitudeDb(c: BiquadCoefficients, freqHz: number, sampleRate: number): number {
  const w = (2 * Math.PI * freqHz) / sampleRate;
  const c1 = Math.cos(w);
  const s1 = Math.sin(w);
  const c2 = Math.cos(2 * w);
  const s2 = Math.sin(2 * w);
  const numRe = c.b0 + c.b1 * c1 + c.b2 * c2;
  const numIm = -(c.b1 * s1 + c.b2 * s2);
  const denRe = 1 + c.a1 * c1 + c.a2 * c2;
  const denIm = -(c.a1 * s1 + c.a2 * s2);
  const num = numRe * numRe + numIm * numIm;
  const den = denRe * denRe + denIm * denIm;
  return 10 * Math.log10(num / den);
}

// Below this the state only holds denormals, which are slow on x86 and inaudible.
const DENORMAL_FLOOR = 1e-30;

/** One channel of a biquad in transposed direct form II; state survives coefficient changes. */
export class Biquad {
  b0 = 1;
  b1 = 0;
  b2 = 0;
  a1 = 0;
  a2 = 0;
  z1 = 0;
  z2 = 0;

  constructor(coefficients: BiquadCoefficients = IDENTITY_COEFFICIENTS) {
    this.setCoefficients(coefficients);
  }

  setCoefficients(c: BiquadCoefficients): void {
    this.b0 = c.b0;
    this.b1 = c.b1;
    this.b2 = c.b2;
    this.a1 = c.a1;
    this.a2 = c.a2;
  }

  reset(): void {
    this.z1 = 0;
    this.z2 = 0;
  }

  /** Filters buffer[0..n) in place. */
  process(buffer: Float32Array, n: number): void {
    const b0 = this.b0, b1 = this.b1, b2 = this.b2, a1 = this.a1, a2 = this.a2;
    let z1 = this.z1, z2 = this.z2;
    for (let i = 0; i < n; i++) {
      const x = buffer[i];
      const y = b0 * x + z1;
      z1 = b1 * x - a1 * y + z2;
      z2 = b2 * x - a2 * y;
      buffer[i] = y;
    }
    this.z1 = Math.abs(z1) < DENORMAL_FLOOR ? 0 : z1;
    this.z2 = Math.abs(z2) < DENORMAL_FLOOR ? 0 : z2;
  }
}

// The kernels below run several independent recursions in one loop: a single biquad is bound by
// the latency of its feedback path, so interleaving two to four of them costs little more than one.

/** Cascade a → b over buffer[0..n) in place. */
export function processCascade2(a: Biquad, b: Biquad, buffer: Float32Array, n: number): void {
  const a0 = a.b0, a1b = a.b1, a2b = a.b2, a1a = a.a1, a2a = a.a2;
  const b0 = b.b0, b1b = b.b1, b2b = b.b2, b1a = b.a1, b2a = b.a2;
  let az1 = a.z1, az2 = a.z2, bz1 = b.z1, bz2 = b.z2;
  for (let i = 0; i < n; i++) {
    const x = buffer[i];
    const ya = a0 * x + az1;
    az1 = a1b * x - a1a * ya + az2;
    az2 = a2b * x - a2a * ya;
    const yb = b0 * ya + bz1;
    bz1 = b1b * ya - b1a * yb + bz2;
    bz2 = b2b * ya - b2a * yb;
    buffer[i] = yb;
  }
  a.z1 = Math.abs(az1) < DENORMAL_FLOOR ? 0 : az1;
  a.z2 = Math.abs(az2) < DENORMAL_FLOOR ? 0 : az2;
  b.z1 = Math.abs(bz1) < DENORMAL_FLOOR ? 0 : bz1;
  b.z2 = Math.abs(bz2) < DENORMAL_FLOOR ? 0 : bz2;
}

/** The same band on two channels: left through l, right through r, in place. */
export function processStereo(l: Biquad, r: Biquad, left: Float32Array, right: Float32Array, n: number): void {
  const b0 = l.b0, b1 = l.b1, b2 = l.b2, a1 = l.a1, a2 = l.a2;
  let lz1 = l.z1, lz2 = l.z2, rz1 = r.z1, rz2 = r.z2;
  for (let i = 0; i < n; i++) {
    const xl = left[i];
    const xr = right[i];
    const yl = b0 * xl + lz1;
    const yr = b0 * xr + rz1;
    lz1 = b1 * xl - a1 * yl + lz2;
    rz1 = b1 * xr - a1 * yr + rz2;
    lz2 = b2 * xl - a2 * yl;
    rz2 = b2 * xr - a2 * yr;
    left[i] = yl;
    right[i] = yr;
  }
  l.z1 = Math.abs(lz1) < DENORMAL_FLOOR ? 0 : lz1;
  l.z2 = Math.abs(lz2) < DENORMAL_FLOOR ? 0 : lz2;
  r.z1 = Math.abs(rz1) < DENORMAL_FLOOR ? 0 : rz1;
  r.z2 = Math.abs(rz2) < DENORMAL_FLOOR ? 0 : rz2;
}

/** Two cascaded bands a → b on two channels (coefficients from aL/bL), in place. */
export function processStereoCascade2(
  aL: Biquad,
  bL: Biquad,
  aR: Biquad,
  bR: Biquad,
  left: Float32Array,
  right: Float32Array,
  n: number,
): void {
  const a0 = aL.b0, a1b = aL.b1, a2b = aL.b2, a1a = aL.a1, a2a = aL.a2;
  const b0 = bL.b0, b1b = bL.b1, b2b = bL.b2, b1a = bL.a1, b2a = bL.a2;
  let alz1 = aL.z1, alz2 = aL.z2, blz1 = bL.z1, blz2 = bL.z2;
  let arz1 = aR.z1, arz2 = aR.z2, brz1 = bR.z1, brz2 = bR.z2;
  for (let i = 0; i < n; i++) {
    const xl = left[i];
    const xr = right[i];
    const yal = a0 * xl + alz1;
    const yar = a0 * xr + arz1;
    alz1 = a1b * xl - a1a * yal + alz2;
    arz1 = a1b * xr - a1a * yar + arz2;
    alz2 = a2b * xl - a2a * yal;
    arz2 = a2b * xr - a2a * yar;
    const ybl = b0 * yal + blz1;
    const ybr = b0 * yar + brz1;
    blz1 = b1b * yal - b1a * ybl + blz2;
    brz1 = b1b * yar - b1a * ybr + brz2;
    blz2 = b2b * yal - b2a * ybl;
    brz2 = b2b * yar - b2a * ybr;
    left[i] = ybl;
    right[i] = ybr;
  }
  aL.z1 = Math.abs(alz1) < DENORMAL_FLOOR ? 0 : alz1;
  aL.z2 = Math.abs(alz2) < DENORMAL_FLOOR ? 0 : alz2;
  bL.z1 = Math.abs(blz1) < DENORMAL_FLOOR ? 0 : blz1;
  bL.z2 = Math.abs(blz2) < DENORMAL_FLOOR ? 0 : blz2;
  aR.z1 = Math.abs(arz1) < DENORMAL_FLOOR ? 0 : arz1;
  aR.z2 = Math.abs(arz2) < DENORMAL_FLOOR ? 0 : arz2;
  bR.z1 = Math.abs(brz1) < DENORMAL_FLOOR ? 0 : brz1;
  bR.z2 = Math.abs(brz2) < DENORMAL_FLOOR ? 0 : brz2;
}
