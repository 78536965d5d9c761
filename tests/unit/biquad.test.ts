import { describe, expect, it } from 'vitest';
import { Biquad, biquadCoefficients, biquadMagnitudeDb } from '../../src/dsp/biquad';
import type { EqBand } from '../../src/shared/mix';

const SAMPLE_RATE = 48_000;

/** Steady-state gain in dB of the filter for a sine, measured from the output's RMS after settling. */
function measuredGainDb(band: EqBand, freq: number): number {
  const filter = new Biquad(biquadCoefficients(band, SAMPLE_RATE));
  // Enough whole cycles for the transient to die out (poles near DC need the most).
  const settle = Math.ceil(SAMPLE_RATE * 0.5);
  const measureCycles = Math.max(20, Math.round(freq * 0.2));
  const measure = Math.round((measureCycles * SAMPLE_RATE) / freq);
  const buffer = new Float32Array(settle + measure);
  const w = (2 * Math.PI * freq) / SAMPLE_RATE;
  for (let i = 0; i < buffer.length; i++) buffer[i] = 0.5 * Math.sin(w * i);
  for (let start = 0; start < buffer.length; start += 128) {
    const block = buffer.subarray(start, Math.min(buffer.length, start + 128));
    filter.process(block, block.length);
  }
  let inPower = 0;
  let outPower = 0;
  for (let i = settle; i < buffer.length; i++) {
    const x = 0.5 * Math.sin(w * i);
    inPower += x * x;
    outPower += buffer[i] * buffer[i];
  }
  return 10 * Math.log10(outPower / inPower);
}

const BANDS: EqBand[] = [
  { type: 'lowshelf', freq: 120, gainDb: 9, q: 0.707 },
  { type: 'lowshelf', freq: 250, gainDb: -12, q: 0.5 },
  { type: 'peaking', freq: 1000, gainDb: 6, q: 1.4 },
  { type: 'peaking', freq: 400, gainDb: -15, q: 4 },
  { type: 'highshelf', freq: 6000, gainDb: 8, q: 0.707 },
  { type: 'highshelf', freq: 3000, gainDb: -10, q: 1 },
];

const TEST_FREQS = [40, 80, 120, 200, 300, 400, 500, 700, 1000, 1400, 2000, 3000, 4500, 6000, 8000, 11000, 15000, 19000];

describe('biquad EQ bands', () => {
  for (const band of BANDS) {
    it(`${band.type} ${band.freq} Hz ${band.gainDb} dB matches the analytic response within 0.1 dB`, () => {
      const c = biquadCoefficients(band, SAMPLE_RATE);
      for (const f of TEST_FREQS) {
        const analytic = biquadMagnitudeDb(c, f, SAMPLE_RATE);
        expect(Math.abs(measuredGainDb(band, f) - analytic), `${f} Hz`).toBeLessThan(0.1);
      }
    });
  }

  it('peaking gain at the centre equals gainDb and is flat far away', () => {
    const band: EqBand = { type: 'peaking', freq: 1000, gainDb: 6, q: 1 };
    const c = biquadCoefficients(band, SAMPLE_RATE);
    expect(biquadMagnitudeDb(c, 1000, SAMPLE_RATE)).toBeCloseTo(6, 6);
    expect(measuredGainDb(band, 1000)).toBeCloseTo(6, 1);
    expect(Math.abs(biquadMagnitudeDb(c, 20, SAMPLE_RATE))).toBeLessThan(0.05);
  });

  it('shelves reach gainDb at their extreme and 0 dB at the other', () => {
    const low = biquadCoefficients({ type: 'lowshelf', freq: 200, gainDb: 9, q: 0.707 }, SAMPLE_RATE);
    expect(biquadMagnitudeDb(low, 1e-3, SAMPLE_RATE)).toBeCloseTo(9, 4);
    expect(Math.abs(biquadMagnitudeDb(low, 20000, SAMPLE_RATE))).toBeLessThan(0.01);
    expect(measuredGainDb({ type: 'lowshelf', freq: 200, gainDb: 9, q: 0.707 }, 20)).toBeGreaterThan(8.8);

    const high = biquadCoefficients({ type: 'highshelf', freq: 4000, gainDb: -10, q: 0.707 }, SAMPLE_RATE);
    expect(biquadMagnitudeDb(high, SAMPLE_RATE / 2, SAMPLE_RATE)).toBeCloseTo(-10, 4);
    expect(Math.abs(biquadMagnitudeDb(high, 20, SAMPLE_RATE))).toBeLessThan(0.01);
    // Shelf midpoint sits at half the gain in dB (RBJ definition).
    expect(biquadMagnitudeDb(high, 4000, SAMPLE_RATE)).toBeCloseTo(-5, 1);
  });

  it('a 0 dB band is an identity filter', () => {
    for (const type of ['lowshelf', 'peaking', 'highshelf'] as const) {
      const c = biquadCoefficients({ type, freq: 1000, gainDb: 0, q: 1 }, SAMPLE_RATE);
      expect(Math.abs(biquadMagnitudeDb(c, 333, SAMPLE_RATE))).toBeLessThan(1e-9);
    }
  });

  it('keeps its state when coefficients change', () => {
    const band: EqBand = { type: 'peaking', freq: 1000, gainDb: 6, q: 1 };
    const f = new Biquad(biquadCoefficients(band, SAMPLE_RATE));
    const buf = new Float32Array(64).fill(0.25);
    f.process(buf, 64);
    const z1 = f.z1;
    expect(z1).not.toBe(0);
    f.setCoefficients(biquadCoefficients({ ...band, gainDb: 3 }, SAMPLE_RATE));
    expect(f.z1).toBe(z1);
    f.reset();
    expect(f.z1).toBe(0);
  });
});
