// ITU-R BS.1770-4 K-weighting at any sample rate, and a short-term (3 s) loudness meter.
import type { BiquadCoefficients } from './biquad';

export interface KWeightingCoefficients {
  /** Stage 1: high shelf modelling the acoustic effect of the head (+4 dB above ~1.5 kHz). */
  preFilter: BiquadCoefficients;
  /** Stage 2: revised low-frequency B-curve (RLB) high-pass. */
  rlbHighPass: BiquadCoefficients;
}

/** BS.1770 calibration: a 997 Hz 0 dBFS sine in one channel reads -3.01 LUFS. */
export const LOUDNESS_OFFSET_DB = -0.691;

// Analog prototypes of the BS.1770 filters, as derived in libebur128, so 48 kHz reproduces the
// coefficients published in the standard and other rates are matched through the bilinear transform.
const SHELF_FREQ = 1681.974450955533;
const SHELF_GAIN_DB = 3.999843853973347;
const SHELF_Q = 0.7071752369554196;
const SHELF_BAND_EXPONENT = 0.4996667741545416;
const RLB_FREQ = 38.13547087602444;
const RLB_Q = 0.5003270373238773;

export function kWeightingCoefficients(sampleRate: number): KWeightingCoefficients {
  let K = Math.tan((Math.PI * SHELF_FREQ) / sampleRate);
  const Vh = Math.pow(10, SHELF_GAIN_DB / 20);
  const Vb = Math.pow(Vh, SHELF_BAND_EXPONENT);
  let a0 = 1 + K / SHELF_Q + K * K;
  const preFilter: BiquadCoefficients = {
    b0: (Vh + (Vb * K) / SHELF_Q + K * K) / a0,
    b1: (2 * (K * K - Vh)) / a0,
    b2: (Vh - (Vb * K) / SHELF_Q + K * K) / a0,
    a1: (2 * (K * K - 1)) / a0,
    a2: (1 - K / SHELF_Q + K * K) / a0,
  };
  K = Math.tan((Math.PI * RLB_FREQ) / sampleRate);
  a0 = 1 + K / RLB_Q + K * K;
  const rlbHighPass: BiquadCoefficients = {
    b0: 1,
    b1: -2,
    b2: 1,
    a1: (2 * (K * K - 1)) / a0,
    a2: (1 - K / RLB_Q + K * K) / a0,
  };
  return { preFilter, rlbHighPass };
}

/** Both K-weighting stages for one channel, in double precision, accumulating energy. */
export class KWeightingFilter {
  readonly #c: KWeightingCoefficients;
  #s1z1 = 0;
  #s1z2 = 0;
  #s2z1 = 0;
  #s2z2 = 0;

  constructor(sampleRate: number) {
    this.#c = kWeightingCoefficients(sampleRate);
  }

  reset(): void {
    this.#s1z1 = this.#s1z2 = this.#s2z1 = this.#s2z2 = 0;
  }

  /** Filters input[offset..offset+n) and returns the sum of the squared K-weighted samples. */
  sumOfSquares(input: Float32Array, offset: number, n: number): number {
    const p = this.#c.preFilter, h = this.#c.rlbHighPass;
    const pb0 = p.b0, pb1 = p.b1, pb2 = p.b2, pa1 = p.a1, pa2 = p.a2;
    const hb0 = h.b0, hb1 = h.b1, hb2 = h.b2, ha1 = h.a1, ha2 = h.a2;
    let s1z1 = this.#s1z1, s1z2 = this.#s1z2, s2z1 = this.#s2z1, s2z2 = this.#s2z2;
    let energy = 0;
    const end = offset + n;
    for (let i = offset; i < end; i++) {
      const x = input[i];
      const y1 = pb0 * x + s1z1;
      s1z1 = pb1 * x - pa1 * y1 + s1z2;
      s1z2 = pb2 * x - pa2 * y1;
      const y2 = hb0 * y1 + s2z1;
      s2z1 = hb1 * y1 - ha1 * y2 + s2z2;
      s2z2 = hb2 * y1 - ha2 * y2;
      energy += y2 * y2;
    }
    // Denormal state after silence is slow on x86 and carries no energy worth measuring.
    this.#s1z1 = Math.abs(s1z1) < 1e-30 ? 0 : s1z1;
    this.#s1z2 = Math.abs(s1z2) < 1e-30 ? 0 : s1z2;
    this.#s2z1 = Math.abs(s2z1) < 1e-30 ? 0 : s2z1;
    this.#s2z2 = Math.abs(s2z2) < 1e-30 ? 0 : s2z2;
    return energy;
  }
}

/**
 * KWeightingFilter for both channels of a stereo pair in one loop: the two channels' recursions overlap in the CPU and
 * the RLB stage's fixed numerator needs no multiplies, so a pair costs well under two filters. Same filter, same double
 * precision; sums agree to rounding.
 */
export class StereoKWeightingFilter {
  readonly #c: KWeightingCoefficients;
  /** Stage 1 then stage 2 state, left then right. */
  readonly #state = new Float64Array(8);

  constructor(sampleRate: number) {
    this.#c = kWeightingCoefficients(sampleRate);
  }

  reset(): void {
    this.#state.fill(0);
  }

  /** Filters left and right [offset..offset+n) and returns the sum of both channels' squared K-weighted samples. */
  sumOfSquares(left: Float32Array, right: Float32Array, offset: number, n: number): number {
    const p = this.#c.preFilter, h = this.#c.rlbHighPass;
    const pb0 = p.b0, pb1 = p.b1, pb2 = p.b2, pa1 = p.a1, pa2 = p.a2;
    // The RLB high-pass's numerator is 1, −2, 1: its multiplies are left out.
    const ha1 = h.a1, ha2 = h.a2;
    const st = this.#state;
    let l1z1 = st[0], l1z2 = st[1], l2z1 = st[2], l2z2 = st[3];
    let r1z1 = st[4], r1z2 = st[5], r2z1 = st[6], r2z2 = st[7];
    let energyLeft = 0;
    let energyRight = 0;
    const end = offset + n;
    for (let i = offset; i < end; i++) {
      const x = left[i];
      const y1 = pb0 * x + l1z1;
      l1z1 = pb1 * x + l1z2 - pa1 * y1;
      l1z2 = pb2 * x - pa2 * y1;
      const y2 = y1 + l2z1;
      l2z1 = l2z2 - 2 * y1 - ha1 * y2;
      l2z2 = y1 - ha2 * y2;
      energyLeft += y2 * y2;
      const u = right[i];
      const v1 = pb0 * u + r1z1;
      r1z1 = pb1 * u + r1z2 - pa1 * v1;
      r1z2 = pb2 * u - pa2 * v1;
      const v2 = v1 + r2z1;
      r2z1 = r2z2 - 2 * v1 - ha1 * v2;
      r2z2 = v1 - ha2 * v2;
      energyRight += v2 * v2;
    }
    // Denormal state after silence is slow on x86 and carries no energy worth measuring.
    const flush = (z: number): number => (Math.abs(z) < 1e-30 ? 0 : z);
    st[0] = flush(l1z1);
    st[1] = flush(l1z2);
    st[2] = flush(l2z1);
    st[3] = flush(l2z2);
    st[4] = flush(r1z1);
    st[5] = flush(r1z2);
    st[6] = flush(r2z1);
    st[7] = flush(r2z2);
    return energyLeft + energyRight;
  }
}

/** Loudness in LUFS of a channel-weighted mean square; -Infinity for digital silence. */
export function loudnessFromMeanSquare(meanSquare: number): number {
  return meanSquare > 0 ? LOUDNESS_OFFSET_DB + 10 * Math.log10(meanSquare) : -Infinity;
}

const SUB_BLOCK_SECONDS = 0.1;

/**
 * Short-term loudness (BS.1770 / EBU Tech 3341: 3 s rectangular window), fed blocks of any size.
 * Energy is kept in 100 ms sub-blocks (the BS.1770 gating hop), so the reading advances every
 * 100 ms; before 3 s have been fed the missing part of the window counts as silence.
 */
export class ShortTermLoudnessMeter {
  readonly sampleRate: number;
  readonly channelCount: number;
  readonly #filters: KWeightingFilter[];
  readonly #weights: number[];
  readonly #subBlockFrames: number;
  readonly #subBlocks: Float64Array;
  readonly #windowFrames: number;
  #subBlockIndex = 0;
  #partialEnergy = 0;
  #partialFrames = 0;
  #windowEnergy = 0;
  #completedSubBlocks = 0;

  /** channelWeights default to 1 (L, R, C); use 1.41 for surround channels per BS.1770. */
  constructor(sampleRate: number, channelCount: number, windowSeconds = 3, channelWeights?: number[]) {
    this.sampleRate = sampleRate;
    this.channelCount = channelCount;
    this.#filters = Array.from({ length: channelCount }, () => new KWeightingFilter(sampleRate));
    this.#weights = Array.from({ length: channelCount }, (_, c) => channelWeights?.[c] ?? 1);
    this.#subBlockFrames = Math.max(1, Math.round(sampleRate * SUB_BLOCK_SECONDS));
    const subBlockCount = Math.max(1, Math.round(windowSeconds / SUB_BLOCK_SECONDS));
    this.#subBlocks = new Float64Array(subBlockCount);
    this.#windowFrames = subBlockCount * this.#subBlockFrames;
  }

  reset(): void {
    for (const f of this.#filters) f.reset();
    this.#subBlocks.fill(0);
    this.#subBlockIndex = 0;
    this.#partialEnergy = 0;
    this.#partialFrames = 0;
    this.#windowEnergy = 0;
    this.#completedSubBlocks = 0;
  }

  /** Feeds channels[c][offset..offset+n) for every channel. */
  push(channels: Float32Array[], offset: number, n: number): void {
    let done = 0;
    while (done < n) {
      const take = Math.min(n - done, this.#subBlockFrames - this.#partialFrames);
      let energy = 0;
      for (let c = 0; c < this.channelCount; c++) {
        energy += this.#weights[c] * this.#filters[c].sumOfSquares(channels[c], offset + done, take);
      }
      this.#partialEnergy += energy;
      this.#advance(take);
      done += take;
    }
  }

  /** Feeds n frames of digital silence without filtering (filter state is cleared). */
  pushSilence(n: number): void {
    for (const f of this.#filters) f.reset();
    let done = 0;
    while (done < n) {
      const take = Math.min(n - done, this.#subBlockFrames - this.#partialFrames);
      this.#advance(take);
      done += take;
    }
  }

  #advance(frames: number): void {
    this.#partialFrames += frames;
    if (this.#partialFrames < this.#subBlockFrames) return;
    const slots = this.#subBlocks;
    this.#windowEnergy += this.#partialEnergy - slots[this.#subBlockIndex];
    slots[this.#subBlockIndex] = this.#partialEnergy;
    if (++this.#subBlockIndex === slots.length) {
      this.#subBlockIndex = 0;
      // Re-summing once per lap stops the running sum from drifting (or going negative).
      let sum = 0;
      for (let k = 0; k < slots.length; k++) sum += slots[k];
      this.#windowEnergy = sum;
    }
    this.#completedSubBlocks++;
    this.#partialEnergy = 0;
    this.#partialFrames = 0;
  }

  /** Short-term loudness in LUFS over the last complete window; -Infinity when silent. */
  get loudness(): number {
    return loudnessFromMeanSquare(this.#windowEnergy / this.#windowFrames);
  }

  /** Number of 100 ms sub-blocks fed since the last reset. */
  get completedSubBlocks(): number {
    return this.#completedSubBlocks;
  }
}
