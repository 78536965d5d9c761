// The self-supervised task: a musician's stem is "un-mixed" at random (fader gain, an EQ tilt, a
// pan) and a model must propose the console settings that bring it back.
//
// Training applies a corruption to cached features (corruptFeatures), evaluation to the audio
// through the app's own channel strip (corruptAudio). On features:
// - gain is exact: every level feature (loudness, percentiles, peak, mel) moves by the gain, the
//   shape features do not; only the −50 LUFS activity gate can differ at the edges;
// - the EQ moves the mel bands by the filter's power response weighted by the stem's own spectrum
//   within each band, the band energies and tilt by the change of the stem's mean power spectrum
//   (exact for those up to the active-frame selection), loudness by the change of its K-weighted
//   power, and the centroid by the change of the magnitude centroid of that spectrum;
// - pan (the stereo balance law of src/dsp/pan.ts) scales L and R energies: balance, width and
//   correlation follow exactly from balance and correlation, loudness from the energy change.
// `npm run eval:mix` measures how close these come to analysing the corrupted audio.
import type { TrackFeatures } from '../../src/shared/features';
import { defaultEq, defaultMasterSettings, defaultTrackSettings, type Eq, type TrackSettings } from '../../src/shared/mix';
import { biquadCoefficients, biquadMagnitudeDb } from '../../src/dsp/biquad';
import { kWeightingCoefficients } from '../../src/dsp/k-weighting';
import { melFilterbank } from '../../src/dsp/mel';
import { MixEngine, renderTracksOffline } from '../../src/dsp/mix-engine';
import { panGains } from '../../src/dsp/pan';
import { FEATURE_BANDS_HZ } from '../../src/shared/features';
import { ANALYSIS_BINS, SPECTRUM_BINS, SPECTRUM_FFT, SPECTRUM_RATE, type StemFeatures } from './song-features';

/** Ranges of the random corruption: gain ±12 dB, tilt ±1.5 dB/octave about 1 kHz, pan ±0.5. */
export const CORRUPTION = { gainDb: 12, tiltDbPerOctave: 1.5, pan: 0.5 } as const;

export interface Corruption {
  gainDb: number;
  pan: number;
  tiltDbPerOctave: number;
}

export function sampleCorruption(random: () => number): Corruption {
  const u = (r: number) => (2 * random() - 1) * r;
  return { gainDb: u(CORRUPTION.gainDb), pan: u(CORRUPTION.pan), tiltDbPerOctave: u(CORRUPTION.tiltDbPerOctave) };
}

/** The tilt as gains of the console's four default EQ bands: t · log2(f / 1 kHz) at each band's frequency. */
export function tiltEqGains(tiltDbPerOctave: number): [number, number, number, number] {
  return defaultEq().map((b) => tiltDbPerOctave * Math.log2(b.freq / 1000)) as [number, number, number, number];
}

function eqWithGains(gains: readonly number[]): Eq {
  const eq = defaultEq();
  eq.forEach((b, k) => (b.gainDb = gains[k]));
  return eq;
}

/** Console settings that apply the corruption to a stem. */
export function corruptionSettings(c: Corruption): TrackSettings {
  return { ...defaultTrackSettings(), gainDb: c.gainDb, pan: c.pan, eq: eqWithGains(tiltEqGains(c.tiltDbPerOctave)) };
}

/** Level lost by a stereo stem panned by p and back by −p: both channels end at √2·cos((1+|p|)π/4). */
export function panRoundTripDb(pan: number): number {
  const g = panGains(Math.abs(pan), 2);
  return 20 * Math.log10(Math.min(g.left, g.right));
}

/**
 * What undoes the corruption exactly: the RBJ shelves and peaks with negated gains are the inverse
 * filters, a balance by −p undoes p up to a level loss that the fader makes up.
 */
export function restoringSettings(c: Corruption): { gainDb: number; pan: number; eqGainsDb: [number, number, number, number] } {
  return {
    gainDb: -c.gainDb - panRoundTripDb(c.pan),
    pan: -c.pan,
    eqGainsDb: tiltEqGains(c.tiltDbPerOctave).map((g) => -g) as [number, number, number, number],
  };
}

// ---- Features ----

const binHz = SPECTRUM_RATE / SPECTRUM_FFT;
const binFreqs = Float64Array.from({ length: SPECTRUM_BINS }, (_, k) => k * binHz);
let kWeightPower: Float64Array | null = null;

/** K-weighting power response at each spectrum bin (0 at DC). */
function kWeighting(): Float64Array {
  if (kWeightPower) return kWeightPower;
  const { preFilter, rlbHighPass } = kWeightingCoefficients(SPECTRUM_RATE);
  kWeightPower = Float64Array.from(binFreqs, (f) => (f === 0 ? 0 : Math.pow(10, (biquadMagnitudeDb(preFilter, f, SPECTRUM_RATE) + biquadMagnitudeDb(rlbHighPass, f, SPECTRUM_RATE)) / 10)));
  return kWeightPower;
}

/** Power response of the tilt EQ at each bin. */
export function tiltPowerResponse(tiltDbPerOctave: number): Float64Array {
  const coefficients = eqWithGains(tiltEqGains(tiltDbPerOctave)).map((b) => biquadCoefficients(b, SPECTRUM_RATE));
  return Float64Array.from(binFreqs, (f) => {
    let db = 0;
    for (const c of coefficients) db += biquadMagnitudeDb(c, Math.max(f, 1), SPECTRUM_RATE);
    return Math.pow(10, db / 10);
  });
}

const TILT_LOW_HZ = 50;
const TILT_HIGH_HZ = 8000;

/** The analysis's tilt estimator (track-features.ts) on a mean power spectrum. */
function tiltOf(power: Float64Array): number {
  let sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (let k = Math.ceil(TILT_LOW_HZ / binHz); k * binHz <= TILT_HIGH_HZ; k++) {
    const f = k * binHz;
    const w = 1 / f;
    const x = Math.log2(f);
    const y = 10 * Math.log10(Math.max(power[k], 1e-12));
    sw += w; sx += w * x; sy += w * y; sxx += w * x * x; sxy += w * x * y;
  }
  const d = sw * sxx - sx * sx;
  return d > 0 ? (sw * sxy - sx * sy) / d : 0;
}

function centroidOf(power: Float64Array): number {
  let m = 0, w = 0;
  for (let k = 0; k < power.length; k++) {
    const a = Math.sqrt(power[k]);
    m += a;
    w += a * k * binHz;
  }
  return m > 0 ? w / m : 0;
}

const db = (ratio: number): number => 10 * Math.log10(Math.max(ratio, 1e-30));

function shiftLevels(f: TrackFeatures, loudnessDb: number, melDb: (m: number) => number): void {
  f.integratedLufs += loudnessDb;
  f.shortTermP10 += loudnessDb;
  f.shortTermP50 += loudnessDb;
  f.shortTermP95 += loudnessDb;
  f.peakDb += loudnessDb;
  f.melMeanDb = f.melMeanDb.map((v, m) => v + melDb(m));
}

/** The features the analysis would (nearly) give for the stem after `c`. */
export function corruptFeatures(stem: StemFeatures, c: Corruption): TrackFeatures {
  const f: TrackFeatures = { ...stem.features, bandEnergiesDb: [...stem.features.bandEnergiesDb], melMeanDb: [...stem.features.melMeanDb] };
  if (!Number.isFinite(f.integratedLufs)) return f;

  // EQ.
  if (c.tiltDbPerOctave !== 0) {
    const H = tiltPowerResponse(c.tiltDbPerOctave);
    const P = Float64Array.from(stem.meanPowerDb, (v) => Math.pow(10, v / 10));
    const PH = Float64Array.from(P, (p, k) => p * H[k]);
    const K = kWeighting();
    // Loudness hears the whole band; the spectral features stop at 11.025 kHz like the analysis.
    let kBefore = 0, kAfter = 0, total = 0, totalAfter = 0;
    for (let k = 0; k < P.length; k++) {
      kBefore += K[k] * P[k];
      kAfter += K[k] * PH[k];
      if (k >= ANALYSIS_BINS) continue;
      total += P[k];
      totalAfter += PH[k];
    }
    const analysed = (a: Float64Array) => a.subarray(0, ANALYSIS_BINS);
    const bands = f.bandEnergiesDb.map((_, b) => {
      let before = 0, after = 0;
      for (let k = 0; k < ANALYSIS_BINS; k++) {
        if (binFreqs[k] >= FEATURE_BANDS_HZ[b] && binFreqs[k] < FEATURE_BANDS_HZ[b + 1]) {
          before += P[k];
          after += PH[k];
        }
      }
      return before > 0 ? db(after / before) - db(totalAfter / total) : 0;
    });
    f.bandEnergiesDb = f.bandEnergiesDb.map((v, b) => (v <= -119.99 ? v : Math.max(-120, v + bands[b])));
    f.spectralTiltDbPerOctave += tiltOf(PH) - tiltOf(P);
    const c0 = centroidOf(analysed(P));
    if (c0 > 0) f.spectralCentroidHz *= centroidOf(analysed(PH)) / c0;
    const bank = melFilterbank();
    const melShift = (m: number): number => {
      let before = 0, after = 0;
      for (let k = bank.firstBin[m]; k < bank.endBin[m]; k++) {
        const w = bank.weights[m * bank.bins + k] * P[k];
        before += w;
        after += w * H[k];
      }
      return before > 0 ? db(after / before) : 0;
    };
    shiftLevels(f, db(kAfter / kBefore), melShift);
  }

  // Pan: per-channel gains a (left) and b (right) of the balance law.
  if (c.pan !== 0) {
    const { left: a, right: b } = panGains(c.pan, 2);
    const balance = f.stereoBalance ?? 0;
    const LL = (1 - balance) / 2;
    const RR = (1 + balance) / 2;
    const LR = f.stereoCorrelation * Math.sqrt(LL * RR);
    const LL2 = a * a * LL, RR2 = b * b * RR, LR2 = a * b * LR;
    const mid = (LL + RR + 2 * LR) / 4;
    const mid2 = (LL2 + RR2 + 2 * LR2) / 4;
    const side2 = Math.max(0, (LL2 + RR2 - 2 * LR2) / 4);
    f.stereoBalance = LL2 + RR2 > 0 ? (RR2 - LL2) / (RR2 + LL2) : 0;
    f.stereoWidth = mid2 > side2 / 100 ? side2 / mid2 : 100;
    const monoShift = mid > 0 && mid2 > 0 ? db(mid2 / mid) : 0;
    const levelShift = db((LL2 + RR2) / (LL + RR));
    shiftLevels(f, levelShift, () => monoShift);
  }

  // Gain: exact.
  shiftLevels(f, c.gainDb, () => c.gainDb);
  return f;
}

// ---- Audio ----

/** The stem after `c`, through the app's channel strip (EQ → fader → pan), as stereo. */
export function applyTrackSettings(channels: Float32Array[], sampleRate: number, settings: TrackSettings): Float32Array[] {
  const engine = new MixEngine(sampleRate);
  engine.setTracks([{ id: 't', channels }]);
  // Only the track strips render (renderTracksOffline): the master chain is not involved.
  engine.setMix({ tracks: { t: settings }, master: defaultMasterSettings() });
  const { left, right } = renderTracksOffline(engine, 0, channels[0].length);
  return [left, right];
}

export function corruptAudio(channels: Float32Array[], sampleRate: number, c: Corruption): Float32Array[] {
  return applyTrackSettings(channels, sampleRate, corruptionSettings(c));
}
