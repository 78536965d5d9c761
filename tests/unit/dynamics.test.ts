import { describe, expect, it } from 'vitest';
import { Compressor, Limiter, compressorGainDb } from '../../src/dsp/dynamics';
import type { CompressorSettings } from '../../src/shared/mix';

const SAMPLE_RATE = 48_000;
const SETTINGS: CompressorSettings = {
  enabled: true,
  thresholdDb: -18,
  ratio: 4,
  attackMs: 5,
  releaseMs: 100,
  kneeDb: 6,
  makeupDb: 2,
};

function sine(amplitude: number, freq: number, frames: number, phaseFrame = 0): Float32Array {
  const out = new Float32Array(frames);
  const w = (2 * Math.PI * freq) / SAMPLE_RATE;
  for (let i = 0; i < frames; i++) out[i] = amplitude * Math.sin(w * (i + phaseFrame));
  return out;
}

function runInBlocks(comp: Compressor, left: Float32Array, right: Float32Array, onBlock?: (end: number) => void): void {
  const channels = [new Float32Array(128), new Float32Array(128)];
  for (let start = 0; start < left.length; start += 128) {
    const n = Math.min(128, left.length - start);
    channels[0].set(left.subarray(start, start + n));
    channels[1].set(right.subarray(start, start + n));
    comp.process(channels, 2, n);
    left.set(channels[0].subarray(0, n), start);
    right.set(channels[1].subarray(0, n), start);
    onBlock?.(start + n);
  }
}

const peakDb = (x: Float32Array, from: number) => {
  let p = 0;
  for (let i = from; i < x.length; i++) p = Math.max(p, Math.abs(x[i]));
  return 20 * Math.log10(p);
};

describe('compressor static curve', () => {
  it('is flat below the knee, follows threshold + (in - threshold) / ratio above it', () => {
    expect(compressorGainDb(-40, SETTINGS)).toBeCloseTo(2, 12);
    expect(compressorGainDb(-21, SETTINGS)).toBeCloseTo(2, 12);
    for (const inDb of [-15, -10, -3, 0, 6]) {
      const expectedOut = SETTINGS.thresholdDb + (inDb - SETTINGS.thresholdDb) / SETTINGS.ratio + SETTINGS.makeupDb;
      expect(inDb + compressorGainDb(inDb, SETTINGS)).toBeCloseTo(expectedOut, 12);
    }
  });

  it('is a quadratic soft knee: continuous at both edges and W/8·(1/R − 1) at the threshold', () => {
    const s = { ...SETTINGS, makeupDb: 0 };
    expect(compressorGainDb(-18, s)).toBeCloseTo((6 / 8) * (1 / 4 - 1), 12);
    expect(compressorGainDb(-21 + 1e-9, s)).toBeCloseTo(0, 6);
    expect(compressorGainDb(-15 - 1e-9, s)).toBeCloseTo(3 / 4 - 3, 6);
    const hard = { ...s, kneeDb: 0 };
    expect(compressorGainDb(-18, hard)).toBe(0);
    expect(compressorGainDb(-10, hard)).toBeCloseTo(-6, 12);
  });

  it('a steady sine comes out at the static-curve level within 0.5 dB', () => {
    for (const inDb of [-40, -24, -20, -18, -16, -12, -6, -1]) {
      const comp = new Compressor(SAMPLE_RATE, SETTINGS);
      const amplitude = 10 ** (inDb / 20);
      const frames = SAMPLE_RATE;
      const left = sine(amplitude, 1000, frames);
      const right = sine(amplitude, 1000, frames);
      runInBlocks(comp, left, right);
      const outDb = peakDb(left, frames - 4800);
      expect(Math.abs(outDb - (inDb + compressorGainDb(inDb, SETTINGS))), `${inDb} dB`).toBeLessThan(0.5);
      if (inDb >= -12) {
        const formula = SETTINGS.thresholdDb + (inDb - SETTINGS.thresholdDb) / SETTINGS.ratio + SETTINGS.makeupDb;
        expect(Math.abs(outDb - formula), `${inDb} dB vs formula`).toBeLessThan(0.5);
      }
    }
  });

  it('links the channels: a loud left channel turns the quiet right one down too', () => {
    const comp = new Compressor(SAMPLE_RATE, { ...SETTINGS, makeupDb: 0 });
    const left = sine(1, 1000, SAMPLE_RATE);
    const right = sine(0.01, 1000, SAMPLE_RATE);
    runInBlocks(comp, left, right);
    expect(peakDb(right, SAMPLE_RATE - 4800)).toBeCloseTo(-40 + compressorGainDb(0, { ...SETTINGS, makeupDb: 0 }), 0);
  });
});

describe('compressor timing', () => {
  it('attacks with about attackMs and releases with about releaseMs', () => {
    const s = { ...SETTINGS, attackMs: 10, releaseMs: 100, makeupDb: 0 };
    const comp = new Compressor(SAMPLE_RATE, s);
    const loud = SAMPLE_RATE / 2;
    const total = SAMPLE_RATE;
    const left = new Float32Array(total);
    const w = (2 * Math.PI * 1000) / SAMPLE_RATE;
    for (let i = 0; i < total; i++) left[i] = (i < loud ? 1 : 0.001) * Math.sin(w * i);
    const right = left.slice();
    const reduction = new Map<number, number>();
    runInBlocks(comp, left, right, (end) => reduction.set(end, comp.gainReductionDb));
    // Gain reduction at the block boundary nearest to `ms` after frame `from`.
    const at = (ms: number, from: number) => reduction.get(Math.round((from + (ms / 1000) * SAMPLE_RATE) / 128) * 128) ?? NaN;
    const final = -compressorGainDb(0, s);
    expect(at(490, 0)).toBeCloseTo(final, 1);
    // One time constant after the step the smoother has covered about 63 % of the way.
    const attackFraction = at(10, 0) / final;
    expect(attackFraction).toBeGreaterThan(0.5);
    expect(attackFraction).toBeLessThan(0.75);
    expect(at(50, 0) / final).toBeGreaterThan(0.97);
    const releaseFraction = at(100, loud) / final;
    expect(releaseFraction).toBeGreaterThan(0.3);
    expect(releaseFraction).toBeLessThan(0.5);
    expect(at(480, loud) / final).toBeLessThan(0.02);
  });
});

describe('limiter', () => {
  it('never lets loud noise exceed the ceiling in sample peak', () => {
    for (const ceilingDb of [-1, -0.3, -6]) {
      const limiter = new Limiter(SAMPLE_RATE, { enabled: true, ceilingDb, releaseMs: 50 });
      const ceiling = 10 ** (ceilingDb / 20);
      let seed = 12345;
      const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
      const left = new Float32Array(128);
      const right = new Float32Array(128);
      let worst = 0;
      let loudest = 0;
      for (let block = 0; block < 3000; block++) {
        // Bursts from -20 dB to +12 dB so the gain keeps attacking and releasing.
        const level = 10 ** ((-20 + 32 * ((block >> 4) % 5) / 4) / 20);
        for (let i = 0; i < 128; i++) {
          left[i] = level * random() * (i % 37 === 0 ? 4 : 1);
          right[i] = level * random();
        }
        limiter.process(left, right, 128);
        for (let i = 0; i < 128; i++) {
          worst = Math.max(worst, Math.abs(left[i]), Math.abs(right[i]));
          loudest = Math.max(loudest, Math.abs(left[i]));
        }
      }
      expect(worst).toBeLessThanOrEqual(ceiling);
      expect(loudest).toBeGreaterThan(ceiling * 0.9);
    }
  });

  it('turns down ahead of a peak (lookahead) and passes quiet audio unchanged, delayed', () => {
    const limiter = new Limiter(SAMPLE_RATE, { enabled: true, ceilingDb: -6, releaseMs: 50 });
    const L = limiter.latencyFrames;
    expect(L).toBe(72);
    const frames = 1024;
    // A varying signal, so a wrong delay cannot pass as right.
    const left = new Float32Array(frames);
    for (let i = 0; i < frames; i++) left[i] = 0.25 * Math.sin(i * 0.05) ** 2;
    const spikeAt = 512;
    left[spikeAt] = 2;
    const right = new Float32Array(frames);
    const input = left.slice();
    for (let s = 0; s < frames; s += 128) limiter.process(left.subarray(s, s + 128), right.subarray(s, s + 128), 128);
    const ceiling = 10 ** (-6 / 20);
    expect(left[spikeAt + L]).toBeLessThanOrEqual(ceiling);
    expect(left[spikeAt + L]).toBeGreaterThan(ceiling * 0.999);
    // The spike is turned down by gain, not clipped: its neighbours share nearly the same gain.
    const spikeGain = ceiling / 2;
    for (const k of [-1, 1]) expect(left[spikeAt + L + k] / input[spikeAt + k]).toBeLessThan(spikeGain * 1.05);
    // Samples before the spike are already attenuated: that is the lookahead at work.
    expect(left[spikeAt + L - L / 2]).toBeLessThan(input[spikeAt - L / 2] * 0.9);
    // Before the lookahead window the audio is untouched, only delayed.
    for (let i = L + 10; i < spikeAt - 1; i++) expect(left[i]).toBe(input[i - L]);
    for (let i = 0; i < L; i++) expect(left[i]).toBe(0);
  });

  it('is a pure delay of latencyFrames when disabled', () => {
    const limiter = new Limiter(44_100, { enabled: false, ceilingDb: -1, releaseMs: 50 });
    const L = limiter.latencyFrames;
    expect(L).toBe(66);
    const left = sine(2, 440, 512);
    const input = left.slice();
    const right = new Float32Array(512);
    for (let s = 0; s < 512; s += 128) limiter.process(left.subarray(s, s + 128), right.subarray(s, s + 128), 128);
    for (let i = L; i < 512; i++) expect(left[i]).toBe(input[i - L]);
  });
});
