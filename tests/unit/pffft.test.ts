import { describe, expect, it } from 'vitest';
import { loadPffftPower } from '../../src/dsp/pffft';
import { fftJsPower, forEachPowerFrame } from '../../src/dsp/stft';
import { analyseTrack } from '../../src/dsp/track-features';
import { SPECTROGRAM } from '../../src/shared/features';

function noiseAndTones(length: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length }, (_, i) => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return 0.4 * Math.sin(i * 0.031) + 0.2 * Math.sin(i * 0.77 + 1) + 0.1 * (s / 2 ** 32 - 0.5);
  });
}

describe('PFFFT (WASM SIMD) as the STFT’s FFT', () => {
  it('gives fft.js’s power spectra within float32 rounding, bin by bin, at every size the app uses', async () => {
    for (const size of [512, 2048]) {
      const pffft = await loadPffftPower(size);
      const ref = fftJsPower(size);
      const x = Float64Array.from(noiseAndTones(size, size), (v, n) => v * (0.5 - 0.5 * Math.cos((2 * Math.PI * n) / size)));
      const a = new Float32Array(size / 2 + 1);
      const b = new Float32Array(size / 2 + 1);
      pffft.power(x, a, 0.5, 1);
      ref.power(x, b, 0.5, 1);
      const peak = Math.max(...b);
      for (let k = 0; k <= size / 2; k++) expect(Math.abs(a[k] - b[k]), `bin ${k} of ${size}`).toBeLessThan(1e-5 * peak + 1e-4 * b[k]);
    }
  });

  it('windows a frame in frequency (hannPower) as fft.js does in time, edges included', async () => {
    const size = SPECTROGRAM.fftSize;
    const pffft = await loadPffftPower(size);
    const ref = fftJsPower(size);
    const signal = noiseAndTones(3 * size, 5);
    const a = new Float32Array(size / 2 + 1);
    const b = new Float32Array(size / 2 + 1);
    // Inside the signal, over its start, over its end.
    for (const start of [size / 2 + 3, -size / 2, 2 * size + size / 2]) {
      pffft.hannPower(signal, start, a, 0.5, 1);
      ref.hannPower(signal, start, b, 0.5, 1);
      const peak = Math.max(...b);
      for (let k = 0; k <= size / 2; k++) expect(Math.abs(a[k] - b[k]), `bin ${k} from ${start}`).toBeLessThan(1e-5 * peak + 1e-4 * b[k]);
    }
  });

  it('frames the same STFT, and analyseTrack gives the same features with it', async () => {
    const pffft = await loadPffftPower(SPECTROGRAM.fftSize);
    const left = noiseAndTones(44100 * 4, 7);
    const right = noiseAndTones(44100 * 4, 8);
    let frames = 0;
    let worst = 0;
    const ref: Float32Array[] = [];
    forEachPowerFrame(left, (p) => ref.push(p.slice()));
    forEachPowerFrame(left, (p, t) => {
      frames++;
      for (let k = 0; k < p.length; k++) worst = Math.max(worst, Math.abs(p[k] - ref[t][k]) / (ref[t][k] + 1e-9));
    }, { fft: pffft });
    expect(frames).toBe(ref.length);
    expect(worst).toBeLessThan(1e-3);
    const a = analyseTrack([left, right], 44100);
    const b = analyseTrack([left, right], 44100, { fft: pffft });
    expect(b.spectralCentroidHz).toBeCloseTo(a.spectralCentroidHz, 2);
    expect(b.spectralTiltDbPerOctave).toBeCloseTo(a.spectralTiltDbPerOctave, 4);
    b.bandEnergiesDb.forEach((v, i) => expect(v).toBeCloseTo(a.bandEnergiesDb[i], 3));
    b.melMeanDb.forEach((v, i) => expect(v).toBeCloseTo(a.melMeanDb[i], 3));
  });

  it('refuses an STFT of another size than it was set up for', async () => {
    const pffft = await loadPffftPower(512);
    expect(() => forEachPowerFrame(new Float32Array(4096), () => {}, { fftSize: 2048, fft: pffft })).toThrow(/512 points/);
  });
});
