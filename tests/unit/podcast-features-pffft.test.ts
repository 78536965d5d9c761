// The podcast features with PFFFT's transforms (what the worker runs) against fft.js's (the default) and a direct sum.
import { describe, expect, it } from 'vitest';
import { loadPffftAutocorrelation, loadPffftPower } from '../../src/dsp/pffft';
import { decimateByTwo } from '../../src/dsp/halfband';
import { FEATURE_FFT_SIZES, fftJsAutocorrelation, frameFeatures, SPEC_FEATURES, ANALYSIS_RATE } from '../../src/features/podcast/features';

/** A voice-like test signal: a harmonic tone gliding 110 → 220 Hz, then noise, then silence, then a steady 300 Hz tone. */
function voiceLike(seconds: number): Float32Array {
  const n = seconds * ANALYSIS_RATE;
  const x = new Float32Array(n);
  let phase = 0;
  let s = 12345;
  for (let i = 0; i < n; i++) {
    const t = i / ANALYSIS_RATE;
    const part = Math.floor((4 * t) / seconds);
    s = (s * 1664525 + 1013904223) >>> 0;
    const noise = s / 2 ** 32 - 0.5;
    if (part === 0) {
      const f0 = 110 + (110 * t) / (seconds / 4);
      phase += (2 * Math.PI * f0) / ANALYSIS_RATE;
      x[i] = 0.3 * Math.sin(phase) + 0.15 * Math.sin(2 * phase + 0.3) + 0.08 * Math.sin(3 * phase + 1) + 0.01 * noise;
    } else if (part === 1) x[i] = 0.2 * noise;
    else if (part === 3) x[i] = 0.25 * Math.sin((2 * Math.PI * 300 * i) / ANALYSIS_RATE) + 0.1 * Math.sin((2 * Math.PI * 600 * i) / ANALYSIS_RATE);
  }
  return x;
}

describe('podcast features on PFFFT', () => {
  it('autocorrelates like fft.js and like the direct sum', async () => {
    const size = FEATURE_FFT_SIZES.autocorrelation;
    const pffft = await loadPffftAutocorrelation(size);
    const x = new Float64Array(size);
    for (let n = 0; n < size / 2; n++) x[n] = Math.sin(n * 0.21) + 0.3 * Math.sin(n * 1.3 + 0.5);
    const a = new Float64Array(size / 2 + 1);
    const b = new Float64Array(size / 2 + 1);
    pffft.acf(x, a);
    fftJsAutocorrelation(size).acf(x, b);
    for (let lag = 0; lag <= size / 2; lag++) {
      let direct = 0;
      for (let n = 0; n + lag < size; n++) direct += x[n] * x[n + lag];
      expect(Math.abs(b[lag] - direct), `fft.js lag ${lag}`).toBeLessThan(1e-9 * a[0]);
      expect(Math.abs(a[lag] - direct), `PFFFT lag ${lag}`).toBeLessThan(1e-5 * a[0]);
    }
  });

  it('gives the same frame features as fft.js, pitch and voicing included', async () => {
    const x16 = voiceLike(8);
    const x8 = decimateByTwo(x16);
    const ref = frameFeatures(x16, x8);
    const fast = frameFeatures(x16, x8, {
      spectrum: await loadPffftPower(FEATURE_FFT_SIZES.spectrum),
      autocorrelation: await loadPffftAutocorrelation(FEATURE_FFT_SIZES.autocorrelation),
    });
    expect(Array.from(fast.levelDb)).toEqual(Array.from(ref.levelDb));
    const tolerance: Record<(typeof SPEC_FEATURES)[number], number> = { flatness: 1e-3, centroidHz: 0.5, flux: 0.01, hfRatio: 1e-4, stability: 1e-3, pitchHz: 0.5, voicing: 1e-3 };
    for (const key of SPEC_FEATURES) {
      const a = fast[key];
      const b = ref[key];
      expect(a.length).toBe(b.length);
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
      expect(worst, key).toBeLessThan(tolerance[key]);
    }
    // The signal has voiced frames to compare (the glide and the steady tone).
    expect(ref.pitchHz.filter((f) => f > 0).length).toBeGreaterThan(50);
  });
});
