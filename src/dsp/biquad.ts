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
