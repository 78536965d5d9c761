import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { loadDspKernels, type DspKernels } from '../../src/dsp/kernels';
import { loadPffftPower } from '../../src/dsp/pffft';
import { analyseTrack, analyseTrackPcm16, analysisSignal } from '../../src/dsp/track-features';
import { pcm16ToFloat32 } from '../../src/dsp/pcm16';
import { SPECTROGRAM, type TrackFeatures } from '../../src/shared/features';
import { referenceAnalyseTrack, referenceFftJsPower } from './track-features-v2-reference';

// mixnet was trained on the features of TRACK_FEATURES_VERSION 2; a faster analyseTrack must keep giving them.
// Tolerances: 0.01 dB for levels in dB or LUFS (and the tilt), 0.1 Hz for the centroid, 1e-4 for ratios.
const DB = 0.01;
const HZ = 0.1;
const RATIO = 1e-4;

/** Seeded uniform noise in [−1, 1). */
function noise(frames: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}

/** Noise through a one-pole low-pass plus tones, under a slow level swell: something like a stem. */
function stemLike(frames: number, rate: number, seed: number, toneHz: number): Float32Array {
  const white = noise(frames, seed);
  const out = new Float32Array(frames);
  let lp = 0;
  for (let i = 0; i < frames; i++) {
    lp = 0.9 * lp + 0.1 * white[i];
    const t = i / rate;
    const swell = 0.55 + 0.45 * Math.sin(2 * Math.PI * 0.07 * t);
    out[i] = swell * (0.3 * lp + 0.05 * white[i] + 0.2 * Math.sin(2 * Math.PI * toneHz * t) + 0.08 * Math.sin(2 * Math.PI * 3.1 * toneHz * t));
  }
  return out;
}

/** A stereo pair: correlated content, a little of each side's own, leaning right. */
function stereoPair(frames: number, rate: number, seed: number): Float32Array[] {
  const common = stemLike(frames, rate, seed, 220);
  const left = noise(frames, seed + 1);
  const right = noise(frames, seed + 2);
  for (let i = 0; i < frames; i++) {
    const c = common[i];
    left[i] = 0.8 * c + 0.05 * left[i];
    right[i] = c + 0.05 * right[i] + 0.1 * Math.sin(i * 0.31);
  }
  return [left, right];
}

interface Case {
  name: string;
  rate: number;
  channels: () => Float32Array[];
}

const CASES: Case[] = [
  // Odd lengths on purpose: a partial 100 ms block and a partial hop at the end.
  { name: 'stereo noise and tones, 44.1 kHz', rate: 44100, channels: () => stereoPair(44100 * 31 + 1237, 44100, 11) },
  { name: 'mono, 44.1 kHz', rate: 44100, channels: () => [stemLike(44100 * 17 + 99, 44100, 21, 330)] },
  {
    // About −75 LUFS: no block passes the activity gate, so the active statistics use the whole track.
    name: 'near-silent stereo',
    rate: 44100,
    channels: () => stereoPair(44100 * 9 + 5, 44100, 31).map((ch) => ch.map((x) => x * 2e-4)),
  },
  {
    name: 'stereo with silence in the middle and a click in it',
    rate: 44100,
    channels: () => {
      const frames = 44100 * 26 + 777;
      const pair = stereoPair(frames, 44100, 41);
      for (const ch of pair) ch.fill(0, 44100 * 9, 44100 * 17);
      pair[0][44100 * 13] = 0.9;
      return pair;
    },
  },
  { name: 'stereo, 48 kHz (resampled)', rate: 48000, channels: () => stereoPair(48000 * 14 + 321, 48000, 51) },
  { name: 'mono, 22.05 kHz (no rate change)', rate: 22050, channels: () => [stemLike(22050 * 12 + 17, 22050, 61, 440)] },
  {
    name: 'left only, 44.1 kHz',
    rate: 44100,
    channels: () => {
      const [left] = stereoPair(44100 * 8 + 3, 44100, 71);
      return [left, new Float32Array(left.length)];
    },
  },
  {
    name: 'three channels, 44.1 kHz',
    rate: 44100,
    channels: () => [...stereoPair(44100 * 6 + 11, 44100, 81), stemLike(44100 * 6 + 11, 44100, 83, 660)],
  },
  {
    // Pure tones leave most bins at the floor of float rounding: the hardest case for an FFT computed differently.
    name: 'loud 100 Hz tones on a DC offset',
    rate: 44100,
    channels: () => {
      const tone = (amplitude: number): Float32Array => Float32Array.from({ length: 44100 * 7 }, (_, i) => 0.05 + amplitude * Math.sin((2 * Math.PI * 100 * i) / 44100));
      return [tone(0.9), tone(0.45)];
    },
  },
  { name: 'shorter than one momentary window', rate: 44100, channels: () => stereoPair(44100 * 0.3, 44100, 91) },
  { name: 'digital silence', rate: 44100, channels: () => [new Float32Array(44100 * 4), new Float32Array(44100 * 4)] },
];

function expectSameFeatures(actual: TrackFeatures, expected: TrackFeatures, label: string): void {
  expect(actual.version, label).toBe(expected.version);
  const close = (a: number, e: number, tolerance: number, field: string): void => {
    const where = `${label}: ${field} ${a} against ${e}`;
    if (!Number.isFinite(e)) expect(a, where).toBe(e);
    else expect(Math.abs(a - e), where).toBeLessThanOrEqual(tolerance);
  };
  close(actual.integratedLufs, expected.integratedLufs, DB, 'integratedLufs');
  close(actual.shortTermP10, expected.shortTermP10, DB, 'shortTermP10');
  close(actual.shortTermP50, expected.shortTermP50, DB, 'shortTermP50');
  close(actual.shortTermP95, expected.shortTermP95, DB, 'shortTermP95');
  close(actual.peakDb, expected.peakDb, DB, 'peakDb');
  close(actual.crestDb, expected.crestDb, DB, 'crestDb');
  close(actual.spectralCentroidHz, expected.spectralCentroidHz, HZ, 'spectralCentroidHz');
  close(actual.spectralTiltDbPerOctave, expected.spectralTiltDbPerOctave, DB, 'spectralTiltDbPerOctave');
  close(actual.stereoWidth, expected.stereoWidth, RATIO, 'stereoWidth');
  close(actual.stereoCorrelation, expected.stereoCorrelation, RATIO, 'stereoCorrelation');
  close(actual.stereoBalance ?? NaN, expected.stereoBalance ?? NaN, RATIO, 'stereoBalance');
  close(actual.activity, expected.activity, RATIO, 'activity');
  expect(actual.bandEnergiesDb, label).toHaveLength(expected.bandEnergiesDb.length);
  expected.bandEnergiesDb.forEach((e, i) => close(actual.bandEnergiesDb[i], e, DB, `bandEnergiesDb[${i}]`));
  expect(actual.melMeanDb, label).toHaveLength(expected.melMeanDb.length);
  expected.melMeanDb.forEach((e, i) => close(actual.melMeanDb[i], e, DB, `melMeanDb[${i}]`));
}

let kernelsPromise: Promise<DspKernels> | null = null;
function sharedKernels(): Promise<DspKernels> {
  kernelsPromise ??= loadDspKernels(readFileSync(new URL('../../src/dsp/kernels.wasm', import.meta.url)));
  return kernelsPromise;
}

describe('analyseTrack keeps the features mixnet was trained on (frozen version-2 reference)', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const pffft = await loadPffftPower(SPECTROGRAM.fftSize);
      const channels = c.channels();
      const trained = referenceAnalyseTrack(channels, c.rate, { fft: referenceFftJsPower(SPECTROGRAM.fftSize) });
      const referenceOnPffft = referenceAnalyseTrack(channels, c.rate, { fft: pffft });
      // The fft.js fallback against the training features, PFFFT against the same code on PFFFT and against training.
      expectSameFeatures(analyseTrack(channels, c.rate), trained, 'fft.js');
      const fast = analyseTrack(channels, c.rate, { fft: pffft });
      expectSameFeatures(fast, referenceOnPffft, 'PFFFT');
      expectSameFeatures(fast, trained, 'PFFFT against fft.js');
      // The WebAssembly kernels (one instance for every case, as a worker keeps it): same features again.
      const kernels = await sharedKernels();
      const wasm = analyseTrack(channels, c.rate, { fft: pffft, kernels });
      expectSameFeatures(wasm, referenceOnPffft, 'kernels');
      expectSameFeatures(wasm, trained, 'kernels against fft.js');
    });
  }

  it('leaves its input untouched', () => {
    const channels = stereoPair(44100 * 3, 44100, 101);
    const copy = channels.map((ch) => ch.slice());
    analyseTrack(channels, 44100);
    channels.forEach((ch, i) => expect(ch.every((x, n) => Object.is(x, copy[i][n]))).toBe(true));
  });

  it('reads 16-bit tracks in the kernels as their float equivalents (stereo and mono)', async () => {
    const kernels = await sharedKernels();
    const pffft = await loadPffftPower(SPECTROGRAM.fftSize);
    const toPcm16 = (ch: Float32Array) => Int16Array.from(ch, (x) => Math.max(-32768, Math.min(32767, Math.round(x * 32767))));
    for (const channels of [stereoPair(44100 * 5 + 7, 44100, 111).map(toPcm16), [toPcm16(stemLike(44100 * 4 + 3, 44100, 113, 550))]]) {
      const expected = referenceAnalyseTrack(channels.map(pcm16ToFloat32), 44100, { fft: pffft });
      expectSameFeatures(analyseTrackPcm16(channels, 44100, { fft: pffft, kernels }), expected, `${channels.length}-channel 16-bit, kernels`);
      expectSameFeatures(analyseTrackPcm16(channels, 44100, { fft: pffft }), expected, `${channels.length}-channel 16-bit, TypeScript`);
    }
    expect(() => analyseTrack([new Int16Array(100)], 44100)).toThrow(RangeError);
  });

  it('streams the downmix through the kernels\' half-band chunk by chunk, sample for sample as the TypeScript one', async () => {
    const kernels = await sharedKernels();
    // Lengths around chunk (8 hops) and hop boundaries, odd and even, and shorter than one hop.
    for (const frames of [44100 * 3 + 1, 35280 * 2, 35280 * 2 + 4410 + 7, 4409, 1001, 33]) {
      for (const channels of [stereoPair(frames, 44100, frames), [stemLike(frames, 44100, frames + 1, 300)]]) {
        const expected = analysisSignal(channels, 44100);
        const actual = analysisSignal(channels, 44100, kernels);
        expect(actual.length, `${frames} frames`).toBe(expected.length);
        let worst = 0;
        for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
        expect(worst, `${channels.length} channel(s), ${frames} frames`).toBeLessThan(2e-6);
      }
    }
  });

  it('leaves its input untouched with the kernels, too', async () => {
    const channels = stereoPair(44100 * 3, 44100, 103);
    const copy = channels.map((ch) => ch.slice());
    analyseTrack(channels, 44100, { kernels: await sharedKernels() });
    channels.forEach((ch, i) => expect(ch.every((x, n) => Object.is(x, copy[i][n]))).toBe(true));
  });
});
