import { describe, expect, it } from 'vitest';
import { analyseTrack, SILENT_DB, TRACK_FEATURES_VERSION } from '../../src/dsp/track-features';
import { measureLoudness } from '../../src/dsp/loudness';
import { applyMelFrame, hzToMel, logMelSpectrogram, melFilterbank, melRuns, melToHz } from '../../src/dsp/mel';
import { fftJsPower, forEachPowerFrame, powerSpectrogram } from '../../src/dsp/stft';
import { CancelledError } from '../../src/shared/errors';
import { FEATURE_BANDS_HZ, SPECTROGRAM, type TrackFeatures } from '../../src/shared/features';

const RATE = 44100;

function sine(seconds: number, hz: number, amplitude: number, rate = RATE): Float32Array {
  const out = new Float32Array(Math.round(seconds * rate));
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * hz * i) / rate);
  return out;
}

/** Seeded uniform noise in [−1, 1): a flat power spectral density. */
function whiteNoise(frames: number, amplitude: number, seed = 1): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = amplitude * (state / 2 ** 31 - 1);
  }
  return out;
}

/** Paul Kellet's refined pink filter (±0.05 dB of 1/f above 9 Hz at 44.1 kHz). */
function pinkNoise(frames: number, amplitude: number, seed = 2): Float32Array {
  const white = whiteNoise(frames, 1, seed);
  const out = new Float32Array(frames);
  let b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0;
  for (let i = 0; i < frames; i++) {
    const w = white[i];
    b0 = 0.99886 * b0 + w * 0.0555179;
    b1 = 0.99332 * b1 + w * 0.0750759;
    b2 = 0.969 * b2 + w * 0.153852;
    b3 = 0.8665 * b3 + w * 0.3104856;
    b4 = 0.55 * b4 + w * 0.5329522;
    b5 = -0.7616 * b5 - w * 0.016898;
    out[i] = amplitude * 0.11 * (b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362);
    b6 = w * 0.115926;
  }
  return out;
}

function expectAllFinite(f: TrackFeatures): void {
  const { integratedLufs: _skip, bandEnergiesDb, melMeanDb, ...scalars } = f;
  for (const [name, value] of Object.entries(scalars)) expect(Number.isFinite(value), name).toBe(true);
  for (const v of [...bandEnergiesDb, ...melMeanDb]) expect(Number.isFinite(v)).toBe(true);
  expect(bandEnergiesDb).toHaveLength(FEATURE_BANDS_HZ.length - 1);
  expect(melMeanDb).toHaveLength(SPECTROGRAM.melBands);
}

describe('STFT', () => {
  it('scales a frame to the mean square under the window', () => {
    const rate = SPECTROGRAM.sampleRate;
    const spec = powerSpectrogram(sine(2, 1000, 1, rate));
    const mid = Math.floor(spec.frames / 2) * spec.bins;
    let sum = 0;
    let peakBin = 0;
    for (let k = 0; k < spec.bins; k++) {
      sum += spec.power[mid + k];
      if (spec.power[mid + k] > spec.power[mid + peakBin]) peakBin = k;
    }
    expect(sum).toBeCloseTo(0.5, 3);
    expect(Math.abs((peakBin * rate) / SPECTROGRAM.fftSize - 1000)).toBeLessThan(rate / SPECTROGRAM.fftSize);
    expect(spec.frames).toBe(1 + Math.floor((2 * rate) / SPECTROGRAM.hopSize));
  });

  it('gives white noise of variance σ² a total of σ² per frame', () => {
    const noise = whiteNoise(SPECTROGRAM.sampleRate * 4, 1);
    const spec = powerSpectrogram(noise);
    let total = 0;
    for (let t = 4; t < spec.frames - 4; t++) for (let k = 0; k < spec.bins; k++) total += spec.power[t * spec.bins + k];
    // Uniform on [−1, 1) has variance 1/3.
    expect(total / (spec.frames - 8)).toBeCloseTo(1 / 3, 2);
  });
});

describe('STFT frame selection', () => {
  it('transforms and passes on only the frames include() accepts, each as in the full STFT', () => {
    const noise = whiteNoise(SPECTROGRAM.sampleRate * 2, 0.5, 4);
    const all: Float32Array[] = [];
    forEachPowerFrame(noise, (p) => all.push(p.slice()));
    const seen: number[] = [];
    let transforms = 0;
    const fft = fftJsPower(SPECTROGRAM.fftSize);
    const counting = { ...fft, hannPower: (...args: Parameters<typeof fft.hannPower>) => (transforms++, fft.hannPower(...args)) };
    forEachPowerFrame(
      noise,
      (p, t) => {
        seen.push(t);
        expect(p).toEqual(all[t]);
      },
      { fft: counting, include: (t) => t % 3 === 1 },
    );
    expect(seen).toEqual(all.map((_, t) => t).filter((t) => t % 3 === 1));
    expect(transforms).toBe(seen.length);
  });
});

describe('mel filterbank (Slaney scale, Slaney area normalization)', () => {
  const bank = melFilterbank();
  const binHz = SPECTROGRAM.sampleRate / SPECTROGRAM.fftSize;

  it('uses the Slaney scale: linear to 1 kHz (15 mel), logarithmic above', () => {
    expect(hzToMel(1000)).toBeCloseTo(15, 10);
    expect(hzToMel(500)).toBeCloseTo(7.5, 10);
    expect(melToHz(hzToMel(6400))).toBeCloseTo(6400, 6);
    expect(hzToMel(6400) - hzToMel(1000)).toBeCloseTo(27, 10);
  });

  it('has rows of unit area, increasing centres, and fMin…fMax coverage', () => {
    expect(bank.firstBin).toHaveLength(SPECTROGRAM.melBands);
    for (let m = 0; m < SPECTROGRAM.melBands; m++) {
      let area = 0;
      for (let k = 0; k < bank.bins; k++) area += bank.weights[m * bank.bins + k] * binHz;
      expect(area, `band ${m}`).toBeGreaterThan(0.9);
      expect(area, `band ${m}`).toBeLessThan(1.1);
      if (m > 0) expect(bank.centresHz[m]).toBeGreaterThan(bank.centresHz[m - 1]);
    }
    expect(bank.firstBin[0] * binHz).toBeGreaterThanOrEqual(SPECTROGRAM.fMin);
    expect((bank.endBin[SPECTROGRAM.melBands - 1] - 1) * binHz).toBeLessThanOrEqual(SPECTROGRAM.fMax);
  });

  it('gives applyMelFrame’s bands from melRuns, folded into one loop over the bins', () => {
    const power = Float32Array.from(whiteNoise(bank.bins, 1, 3), (x) => x * x);
    const expected = new Float64Array(SPECTROGRAM.melBands);
    applyMelFrame(bank, power, 0, expected);
    const runs = melRuns(bank);
    const mel = new Float64Array(SPECTROGRAM.melBands + 1);
    let k = 0;
    for (let r = 0; r < runs.end.length; r++) {
      let lower = 0;
      let upper = 0;
      for (; k < runs.end[r]; k++) {
        lower += runs.lower[k] * power[k];
        upper += runs.upper[k] * power[k];
      }
      if (runs.band[r] >= 0) {
        mel[runs.band[r]] += lower;
        mel[runs.band[r] + 1] += upper;
      }
    }
    expect(k).toBe(bank.bins);
    expect(mel[SPECTROGRAM.melBands]).toBe(0);
    for (let m = 0; m < SPECTROGRAM.melBands; m++) expect(Math.abs(mel[m] - expected[m]), `band ${m}`).toBeLessThan(1e-12 * expected[m]);
  });

  it('gives white noise the same power density in every band', () => {
    const logMel = logMelSpectrogram(powerSpectrogram(whiteNoise(SPECTROGRAM.sampleRate * 8, 1)));
    const bands = SPECTROGRAM.melBands;
    const frames = logMel.length / bands;
    const means = new Float64Array(bands);
    for (let t = 0; t < frames; t++) for (let m = 0; m < bands; m++) means[m] += logMel[t * bands + m] / frames;
    // Density of variance 1/3 over 11025 Hz, less the mean-of-log bias of narrow bands' noise.
    const expected = 10 * Math.log10(1 / 3 / (SPECTROGRAM.sampleRate / 2));
    for (let m = 8; m < bands; m++) expect(Math.abs(means[m] - expected), `band ${m}`).toBeLessThan(1.5);
  });
});

describe('analyseTrack', () => {
  it('describes a 1 kHz sine: centroid, band, crest, loudness, peak, image', () => {
    const tone = sine(10, 1000, 0.5);
    const channels = [tone, tone.slice()];
    const f = analyseTrack(channels, RATE);
    expect(f.version).toBe(TRACK_FEATURES_VERSION);
    expectAllFinite(f);
    expect(Math.abs(f.spectralCentroidHz - 1000)).toBeLessThan(20);
    const band500to2k = FEATURE_BANDS_HZ.indexOf(500);
    expect(f.bandEnergiesDb[band500to2k]).toBeGreaterThan(-0.01);
    for (const [b, db] of f.bandEnergiesDb.entries()) if (b !== band500to2k) expect(db, `band ${b}`).toBeLessThan(-50);
    expect(f.crestDb).toBeCloseTo(10 * Math.log10(2), 2);
    expect(f.integratedLufs).toBeCloseTo(measureLoudness(channels, RATE).integratedLufs, 6);
    expect(f.peakDb).toBeCloseTo(20 * Math.log10(0.5), 3);
    expect(f.stereoWidth).toBeLessThan(1e-9);
    expect(f.stereoCorrelation).toBeCloseTo(1, 9);
    expect(f.activity).toBe(1);
    // A steady tone: every short-term percentile after the first 3 s is the same loudness.
    expect(f.shortTermP95 - f.shortTermP10).toBeLessThan(0.1);
    expect(Math.abs(f.shortTermP50 - f.integratedLufs)).toBeLessThan(0.1);
    // The mel band around 1 kHz is the loudest.
    const bank = melFilterbank();
    const loudest = f.melMeanDb.indexOf(Math.max(...f.melMeanDb));
    expect(Math.abs(bank.centresHz[loudest] - 1000)).toBeLessThan(100);
  });

  it('gives white noise a flat tilt and pink noise −3 dB per octave', () => {
    const frames = RATE * 20;
    const white = analyseTrack([whiteNoise(frames, 0.5)], RATE);
    const pink = analyseTrack([pinkNoise(frames, 0.5)], RATE);
    expect(Math.abs(white.spectralTiltDbPerOctave)).toBeLessThan(0.3);
    expect(pink.spectralTiltDbPerOctave).toBeGreaterThan(-3.4);
    expect(pink.spectralTiltDbPerOctave).toBeLessThan(-2.6);
    // The same flat density puts more of white noise's power in its wide upper band.
    expect(white.spectralCentroidHz).toBeGreaterThan(pink.spectralCentroidHz);
    expect(white.bandEnergiesDb[6]).toBeGreaterThan(pink.bandEnergiesDb[6]);
    expectAllFinite(white);
    expectAllFinite(pink);
    // Uniform noise's crest: peak 0.5 over RMS 0.5/√3.
    expect(white.crestDb).toBeCloseTo(10 * Math.log10(3), 1);
  });

  it('measures stereo image: identical L/R, opposite L/R, one side only', () => {
    const noise = whiteNoise(RATE * 5, 0.3);
    const same = analyseTrack([noise, noise.slice()], RATE);
    expect(same.stereoWidth).toBeLessThan(1e-9);
    expect(same.stereoCorrelation).toBeCloseTo(1, 9);

    const inverted = noise.map((x) => -x);
    const opposite = analyseTrack([noise, inverted], RATE);
    expect(opposite.stereoCorrelation).toBeCloseTo(-1, 9);
    expect(opposite.stereoWidth).toBe(100);
    expectAllFinite(opposite);

    const other = whiteNoise(RATE * 5, 0.3, 99);
    const decorrelated = analyseTrack([noise, other], RATE);
    expect(Math.abs(decorrelated.stereoCorrelation)).toBeLessThan(0.05);
    expect(Math.abs(decorrelated.stereoWidth - 1)).toBeLessThan(0.1);

    const mono = analyseTrack([noise], RATE);
    expect(mono.stereoWidth).toBe(0);
    expect(mono.stereoCorrelation).toBe(1);
    expect(analyseTrack([noise, new Float32Array(noise.length)], RATE).stereoCorrelation).toBe(0);
  });

  it('finds where the track plays: silent first half → activity ≈ 0.5', () => {
    const tone = sine(20, 440, 0.3);
    tone.fill(0, 0, tone.length / 2);
    const f = analyseTrack([tone, tone.slice()], RATE);
    expect(Math.abs(f.activity - 0.5)).toBeLessThan(0.02);
    // The active statistics ignore the silence (but for the 2 blocks a centred window reaches back).
    expect(Math.abs(f.crestDb - 10 * Math.log10(2))).toBeLessThan(0.1);
    const report = measureLoudness([tone, tone], RATE);
    expect(f.integratedLufs).toBeCloseTo(report.integratedLufs, 6);
    expect(Math.abs(f.shortTermP50 - f.integratedLufs)).toBeLessThan(0.2);
    expect(Math.abs(f.spectralCentroidHz - 440)).toBeLessThan(20);
  });

  it('gives a silent track finite defaults and integratedLufs = -Infinity', () => {
    const silence = new Float32Array(RATE * 3);
    const f = analyseTrack([silence, silence.slice()], RATE);
    expect(f.integratedLufs).toBe(-Infinity);
    expectAllFinite(f);
    expect(f.activity).toBe(0);
    expect(f.peakDb).toBe(SILENT_DB);
    expect(f.stereoCorrelation).toBe(1);
    expect(f.stereoWidth).toBe(0);
    const empty = analyseTrack([new Float32Array(0)], RATE);
    expectAllFinite(empty);
  });

  it('describes each track alone: gain moves the levels, not the shape, and nothing leaks between calls', () => {
    const a = pinkNoise(RATE * 6, 0.2, 5);
    const b = sine(6, 3000, 0.8);
    const first = analyseTrack([a], RATE);
    analyseTrack([b], RATE);
    const again = analyseTrack([a], RATE);
    expect(again).toEqual(first);

    const louder = analyseTrack([a.map((x) => x * 2)], RATE);
    const sixDb = 20 * Math.log10(2);
    expect(louder.integratedLufs - first.integratedLufs).toBeCloseTo(sixDb, 2);
    expect(louder.shortTermP50 - first.shortTermP50).toBeCloseTo(sixDb, 2);
    expect(louder.peakDb - first.peakDb).toBeCloseTo(sixDb, 3);
    expect(louder.crestDb).toBeCloseTo(first.crestDb, 3);
    expect(louder.spectralCentroidHz).toBeCloseTo(first.spectralCentroidHz, 1);
    expect(louder.spectralTiltDbPerOctave).toBeCloseTo(first.spectralTiltDbPerOctave, 3);
    for (const [i, db] of louder.bandEnergiesDb.entries()) expect(db).toBeCloseTo(first.bandEnergiesDb[i], 3);
    for (const [i, db] of louder.melMeanDb.entries()) expect(db - first.melMeanDb[i]).toBeCloseTo(sixDb, 2);
  });

  it('works at other rates and stops when aborted', () => {
    const at48 = analyseTrack([sine(5, 1000, 0.5, 48000)], 48000);
    expect(Math.abs(at48.spectralCentroidHz - 1000)).toBeLessThan(20);
    expect(() => analyseTrack([sine(5, 1000, 0.5)], RATE, { signal: { aborted: true } })).toThrow(CancelledError);
  });

  // Speed is measured by `npm run bench` (automix.analysis_s), never by a timed test.
  it('analyses 3 minutes of stereo 44.1 kHz to finite features', () => {
    const frames = RATE * 180;
    const left = pinkNoise(frames, 0.3, 7);
    const right = pinkNoise(frames, 0.3, 8);
    const tone = sine(180, 220, 0.2);
    for (let i = 0; i < frames; i++) {
      left[i] += tone[i];
      right[i] += tone[i];
    }
    const f = analyseTrack([left, right], RATE);
    expectAllFinite(f);
    expect(f.stereoCorrelation).toBeGreaterThan(0);
    expect(f.activity).toBe(1);
  });
});
