// The classical four-stem separator, which needs no download: harmonic/percussive separation by median filtering
// (Fitzgerald 2010) with Wiener-style soft masks, bass as the low band of the harmonic part, and vocals as the
// centre-panned harmonic energy of the vocal band (the stereo similarity of Avendano & Jot 2002). The four masks sum
// to one in every bin, so the stems sum back to the mix.
import { CancelledError } from '../shared/errors';
import type { RealFft } from './real-fft';
import { addMagnitudes, complexStft, maskedIstft, synthesisNorm, type ComplexStft } from './spectral-stft';
import { medianAlongFrequency, medianAlongTime } from './median-filter';

export const FOUR_STEMS = ['drums', 'bass', 'vocals', 'other'] as const;
export type FourStem = (typeof FOUR_STEMS)[number];

export interface ClassicalParams {
  /** FFT size and hop in samples (a power of two; hop = size/4 for Hann overlap-add). */
  fftSize: number;
  hopSize: number;
  /** Half-length of the median along time (frames): longer keeps only steadier tones as harmonic. */
  harmonicRadius: number;
  /** Half-length of the median along frequency (bins): longer keeps only broader-band events as percussive. */
  percussiveRadius: number;
  /** Exponent of the soft masks: 2 is the Wiener filter, larger tends to binary masks. */
  maskPower: number;
  /** Harmonic energy is all bass below bassLowHz and none above bassHighHz (a raised-cosine crossover between). */
  bassLowHz: number;
  bassHighHz: number;
  /** Vocal band's upper edge: full weight up to vocalHighHz, fading to none at vocalTopHz. */
  vocalHighHz: number;
  vocalTopHz: number;
  /** Exponent of the stereo similarity (1 = identical in both channels): higher keeps only tightly centred sources. */
  centreExponent: number;
  /** Half-size (frames and bins) of the neighbourhood the stereo similarity is averaged over. */
  centreRadius: number;
  /** With one channel there is no panning cue: the share of the vocal band's harmonic energy given to vocals. */
  monoVocalShare: number;
}

export const CLASSICAL_PARAMS: ClassicalParams = {
  fftSize: 4096,
  hopSize: 1024,
  harmonicRadius: 8,
  percussiveRadius: 8,
  maskPower: 2,
  bassLowHz: 140,
  bassHighHz: 280,
  vocalHighHz: 7000,
  vocalTopHz: 12000,
  centreExponent: 10,
  centreRadius: 1,
  monoVocalShare: 0.5,
};

/** The parameters scaled to a sample rate: the FFT covers ~93 ms whatever the rate. */
export function paramsForRate(sampleRate: number, base: ClassicalParams = CLASSICAL_PARAMS): ClassicalParams {
  const fftSize = sampleRate >= 64_000 ? 8192 : sampleRate >= 32_000 ? 4096 : 2048;
  return { ...base, fftSize, hopSize: fftSize / 4 };
}

/**
 * Samples on each side of a sample that its stems depend on: the frames covering it, the median's and the stereo
 * average's frames around those, and their windows. Segments whose crossfades stay this far from their ends give
 * exactly the whole-file result.
 */
export function contextSamples(p: ClassicalParams): number {
  return p.fftSize + (Math.max(p.harmonicRadius, p.centreRadius) + 1) * p.hopSize;
}

export interface SeparationHooks {
  signal?: { readonly aborted: boolean };
  /** Called as each stage starts, with the fraction of this separation done. */
  onStage?: (stage: string, fraction: number) => void;
}

function check(hooks: SeparationHooks): void {
  if (hooks.signal?.aborted) throw new CancelledError('Separation cancelled');
}

/** Raised-cosine weight: 1 at or below `lo`, 0 at or above `hi`. */
function lowWeight(f: number, lo: number, hi: number): number {
  if (f <= lo) return 1;
  if (f >= hi) return 0;
  return 0.5 + 0.5 * Math.cos((Math.PI * (f - lo)) / (hi - lo));
}

export interface ClassicalMasks {
  frames: number;
  bins: number;
  /** Harmonic share of each bin (frames × bins); the percussive share is 1 − harmonic. */
  harmonic: Float32Array;
  /** How much of the vocal band's harmonic energy is vocals (frames × bins): centredness, or the mono share. */
  vocal: Float32Array;
  /** Per bin: the harmonic part's bass share, and the vocal band's weight among the rest. */
  bassWeight: Float32Array;
  vocalBand: Float32Array;
}

/** The masks' ingredients from the channels' STFTs (one or two). */
export function classicalMasks(stfts: ComplexStft[], sampleRate: number, p: ClassicalParams, hooks: SeparationHooks = {}): ClassicalMasks {
  const { frames, size } = stfts[0];
  const bins = size / 2 + 1;
  const magnitude = new Float32Array(frames * bins);
  for (const s of stfts) {
    for (let t = 0; t < frames; t++) addMagnitudes(s.data.subarray(t * size, (t + 1) * size), magnitude.subarray(t * bins, (t + 1) * bins), 1 / stfts.length);
  }
  check(hooks);
  const harmonic = medianAlongTime(magnitude, frames, bins, p.harmonicRadius);
  check(hooks);
  const percussive = medianAlongFrequency(magnitude, frames, bins, p.percussiveRadius);
  for (let i = 0; i < harmonic.length; i++) {
    const h = harmonic[i] ** p.maskPower;
    const q = percussive[i] ** p.maskPower;
    harmonic[i] = h + q > 1e-30 ? h / (h + q) : 0.5;
  }
  check(hooks);
  const vocal = stfts.length >= 2 ? centredness(stfts[0], stfts[1], p) : new Float32Array(frames * bins).fill(p.monoVocalShare);

  const bassWeight = new Float32Array(bins);
  const vocalBand = new Float32Array(bins);
  for (let k = 0; k < bins; k++) {
    const f = (k * sampleRate) / size;
    bassWeight[k] = lowWeight(f, p.bassLowHz, p.bassHighHz);
    vocalBand[k] = lowWeight(f, p.vocalHighHz, p.vocalTopHz);
  }
  return { frames, bins, harmonic, vocal, bassWeight, vocalBand };
}

/**
 * (|Σ L·R*| / Σ (|L|² + |R|²)/2)^exponent over a (2r+1)² neighbourhood: 1 for a source identical in both channels,
 * sin(2θ) for one panned at constant-power angle θ, 0 hard left or right.
 */
function centredness(left: ComplexStft, right: ComplexStft, p: ClassicalParams): Float32Array {
  const { frames, size } = left;
  const half = size / 2;
  const bins = half + 1;
  const cross = new Float32Array(frames * bins * 2);
  const energy = new Float32Array(frames * bins);
  for (let t = 0; t < frames; t++) {
    const l = left.data.subarray(t * size, (t + 1) * size);
    const r = right.data.subarray(t * size, (t + 1) * size);
    const o = t * bins;
    // Bins 0 and N/2 are real.
    cross[2 * o] = l[0] * r[0];
    energy[o] = (l[0] * l[0] + r[0] * r[0]) / 2;
    cross[2 * (o + half)] = l[1] * r[1];
    energy[o + half] = (l[1] * l[1] + r[1] * r[1]) / 2;
    for (let k = 1; k < half; k++) {
      const lr = l[2 * k];
      const li = l[2 * k + 1];
      const rr = r[2 * k];
      const ri = r[2 * k + 1];
      cross[2 * (o + k)] = lr * rr + li * ri;
      cross[2 * (o + k) + 1] = li * rr - lr * ri;
      energy[o + k] = (lr * lr + li * li + rr * rr + ri * ri) / 2;
    }
  }
  const re = boxSum(cross, frames, bins, 2, 0, p.centreRadius);
  const im = boxSum(cross, frames, bins, 2, 1, p.centreRadius);
  const en = boxSum(energy, frames, bins, 1, 0, p.centreRadius);
  const out = new Float32Array(frames * bins);
  for (let i = 0; i < out.length; i++) out[i] = en[i] > 1e-30 ? Math.min(1, Math.hypot(re[i], im[i]) / en[i]) ** p.centreExponent : 0;
  return out;
}

/** Sum over a (2r+1)² neighbourhood (cut at the edges) of one interleaved component of a frames × bins matrix. */
function boxSum(values: Float32Array, frames: number, bins: number, step: number, component: number, r: number): Float64Array {
  const alongBins = new Float64Array(frames * bins);
  for (let t = 0; t < frames; t++) {
    for (let k = 0; k < bins; k++) {
      let s = 0;
      for (let j = Math.max(0, k - r); j <= Math.min(bins - 1, k + r); j++) s += values[(t * bins + j) * step + component];
      alongBins[t * bins + k] = s;
    }
  }
  const out = new Float64Array(frames * bins);
  for (let t = 0; t < frames; t++) {
    for (let u = Math.max(0, t - r); u <= Math.min(frames - 1, t + r); u++) {
      for (let k = 0; k < bins; k++) out[t * bins + k] += alongBins[u * bins + k];
    }
  }
  return out;
}

/** The four stems' gains for frame t, written into `gains` (bins values each); they sum to one per bin. */
export function stemGains(m: ClassicalMasks, stem: FourStem, t: number, gains: Float32Array): void {
  const o = t * m.bins;
  for (let k = 0; k < m.bins; k++) {
    const h = m.harmonic[o + k];
    const bass = m.bassWeight[k];
    const voc = m.vocalBand[k] * m.vocal[o + k];
    switch (stem) {
      case 'drums':
        gains[k] = 1 - h;
        break;
      case 'bass':
        gains[k] = h * bass;
        break;
      case 'vocals':
        gains[k] = h * (1 - bass) * voc;
        break;
      case 'other':
        gains[k] = h * (1 - bass) * (1 - voc);
        break;
    }
  }
}

export type StemChannels = Record<FourStem, Float32Array[]>;

/** Separates one stretch of audio (1 or 2 channels) into drums, bass, vocals and other, each with the input's channels. */
export function separateClassical(channels: Float32Array[], sampleRate: number, fft: RealFft, p: ClassicalParams = paramsForRate(sampleRate), hooks: SeparationHooks = {}): StemChannels {
  if (fft.size !== p.fftSize) throw new RangeError(`the FFT is for ${fft.size} points, the separator needs ${p.fftSize}`);
  hooks.onStage?.('spectrogram', 0);
  const stfts = channels.map((c) => complexStft(c, fft, p.hopSize));
  check(hooks);
  hooks.onStage?.('masks', 0.15);
  const masks = classicalMasks(stfts, sampleRate, p, hooks);
  const norm = synthesisNorm(channels[0].length, p.fftSize, p.hopSize);
  const stems = {} as StemChannels;
  for (const [i, stem] of FOUR_STEMS.entries()) {
    check(hooks);
    hooks.onStage?.(stem, 0.4 + 0.15 * i);
    stems[stem] = stfts.map((s) => maskedIstft(s, fft, norm, (t, gains) => stemGains(masks, stem, t, gains)));
  }
  hooks.onStage?.('done', 1);
  return stems;
}
