// mixnet, the trained auto-mix model: its committed ONNX exports against the trainer's outputs,
// the quantized variants against fp32, permutation equivariance, the registry's hashes, the runner,
// the hand-written backprop against finite differences, and the feature-space corruption against
// analysing corrupted audio. Needs only the committed files in models/mixnet/, not the lmms data.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { isSilentTrack, MIXNET_FEATURES, MIXNET_OUTPUTS, mixnetFeatureRow, mixnetInput } from '../../models/mixnet/features';
import { mixnetCheckFeeds, mixnetOutput, MIXNET_VARIANTS, type MixnetVariant } from '../../models/mixnet/runner';
import { MODEL_REGISTRY, runnerFor } from '../../models/registry';
import { analyseTrack } from '../../src/dsp/track-features';
import { openSession, type ModelSession } from '../../src/ml/ort';
import { AUTOMIX_RANGES } from '../../src/shared/automix';
import type { TrackFeatures } from '../../src/shared/features';
import { defaultTrackSettings } from '../../src/shared/mix';
import { applyTrackSettings, corruptAudio, corruptFeatures, panRoundTripDb, restoringSettings, tiltEqGains } from '../../scripts/automix/corruption';
import { seededRandom as mulberry32 } from '../../src/shared/random';
import { assembleSession, type Variant } from '../../scripts/automix/dataset';
import { diskMixnetSession, mixnetFile, nodeMixnetRunner } from '../../scripts/automix/mixnet-node';
import { mixnetForward } from '../../scripts/automix/mixnet-weights';
import { fromHalfBits, toHalfBits } from '../../scripts/automix/onnx-export';
import { meanPowerSpectrumDb } from '../../scripts/automix/song-features';
import { initParams, lossAndGradients, lossScales, type Params } from '../../scripts/automix/trainer';

interface Fixture {
  sessions: { name: string; x: number[]; n: number; trainer: number[] }[];
  runner: { song: string; tracks: TrackFeatures[]; silent: number };
}

const fixture = JSON.parse(readFileSync('models/mixnet/fixture.json', 'utf8')) as Fixture;
for (const t of fixture.runner.tracks) if (t.integratedLufs === null) t.integratedLufs = -Infinity;

/** Stated tolerances of the quantized variants against fp32: gain and EQ in dB, pan in pan units. */
const TOLERANCE = {
  fp16: { gain: 0.05, pan: 0.005, eq: 0.05 },
  int8: { gain: 0.5, pan: 0.05, eq: 0.5 },
} as const;

const sessions = new Map<MixnetVariant, Promise<ModelSession>>();
const session = (v: MixnetVariant) => {
  if (!sessions.has(v)) sessions.set(v, diskMixnetSession(v, {}).then((s) => s.session));
  return sessions.get(v)!;
};

async function run(v: MixnetVariant, x: ArrayLike<number>, n: number): Promise<Float32Array> {
  const out = await (await session(v)).run({ features: { type: 'float32', data: Float32Array.from(x), dims: [n, MIXNET_FEATURES] } });
  expect(out.settings.dims).toEqual([n, MIXNET_OUTPUTS]);
  return out.settings.data as Float32Array;
}

describe('mixnet ONNX export', () => {
  it('reproduces the trainer within 1e-4 on every fixture session (onnxruntime-web, WASM)', async () => {
    expect(fixture.sessions.length).toBeGreaterThanOrEqual(3);
    for (const s of fixture.sessions) {
      const out = await run('fp32', s.x, s.n);
      let worst = 0;
      out.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - s.trainer[i]))));
      expect(worst, s.name).toBeLessThan(1e-4);
    }
  });

  it('keeps fp16 and int8 within the stated tolerance of fp32', async () => {
    for (const v of ['fp16', 'int8'] as const) {
      const worst = { gain: 0, pan: 0, eq: 0 };
      for (const s of fixture.sessions) {
        const a = await run('fp32', s.x, s.n);
        const b = await run(v, s.x, s.n);
        a.forEach((value, i) => {
          const d = Math.abs(value - b[i]);
          const col = i % MIXNET_OUTPUTS;
          const key = col === 0 ? 'gain' : col === 1 ? 'pan' : 'eq';
          worst[key] = Math.max(worst[key], d);
        });
      }
      expect(worst.gain, `${v} gain`).toBeLessThanOrEqual(TOLERANCE[v].gain);
      expect(worst.pan, `${v} pan`).toBeLessThanOrEqual(TOLERANCE[v].pan);
      expect(worst.eq, `${v} EQ`).toBeLessThanOrEqual(TOLERANCE[v].eq);
      // A quantized variant that equals fp32 bit for bit would not be quantized.
      expect(worst.gain + worst.eq, v).toBeGreaterThan(0);
    }
  });

  it('is permutation-equivariant: permuting the tracks permutes the settings and nothing else', async () => {
    const s = fixture.sessions.reduce((a, b) => (b.n > a.n ? b : a));
    expect(s.n).toBeGreaterThanOrEqual(4);
    const random = mulberry32(5);
    const order = Array.from({ length: s.n }, (_, i) => i).sort(() => random() - 0.5);
    const permuted = order.flatMap((t) => s.x.slice(t * MIXNET_FEATURES, (t + 1) * MIXNET_FEATURES));
    for (const v of MIXNET_VARIANTS) {
      const a = await run(v, s.x, s.n);
      const b = await run(v, permuted, s.n);
      order.forEach((t, row) => {
        for (let o = 0; o < MIXNET_OUTPUTS; o++) expect(b[row * MIXNET_OUTPUTS + o]).toBeCloseTo(a[t * MIXNET_OUTPUTS + o], 4);
      });
    }
  });

  it('proposes relative gains only: the gains of a session sum to zero', async () => {
    for (const s of fixture.sessions.filter((x) => x.n > 1)) {
      const a = await run('fp32', s.x, s.n);
      let sum = 0;
      for (let t = 0; t < s.n; t++) sum += a[t * MIXNET_OUTPUTS];
      expect(Math.abs(sum), s.name).toBeLessThan(1e-3);
    }
  });

  it('uses only opset-13 operators that onnxruntime-web runs on WASM and WebGPU', () => {
    const allowed = new Set(['MatMul', 'Add', 'Sub', 'Mul', 'Relu', 'ReduceMean', 'Cast', 'DequantizeLinear']);
    for (const v of MIXNET_VARIANTS) {
      const model = onnxProto.onnx.ModelProto.decode(readFileSync(mixnetFile(v)));
      expect(model.opsetImport.map((o) => Number(o.version))).toEqual([13]);
      for (const n of model.graph!.node ?? []) expect(allowed.has(n.opType!), `${v}: ${n.opType}`).toBe(true);
      expect(model.graph!.input![0].type!.tensorType!.shape!.dim![0].dimParam).toBe('tracks');
    }
    expect(statSync(mixnetFile('int8')).size).toBeLessThan(1_000_000);
  });

  it('runs the fixed self-check input on every variant', async () => {
    const feeds = mixnetCheckFeeds();
    for (const v of MIXNET_VARIANTS) {
      const out = await (await session(v)).run(feeds);
      expect(out.settings.dims).toEqual([4, MIXNET_OUTPUTS]);
      expect([...out.settings.data].every((x) => Number.isFinite(Number(x)))).toBe(true);
    }
  });
});

describe('mixnet registry entries', () => {
  it('record the sha256 and size of the files on disk', () => {
    for (const v of MIXNET_VARIANTS) {
      const meta = MODEL_REGISTRY.find((m) => m.id === `mixnet-${v}`);
      expect(meta, v).toBeDefined();
      const bytes = readFileSync(mixnetFile(v));
      expect(meta!.files[0].sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(meta!.files[0].sizeBytes).toBe(bytes.length);
      expect(meta!.dtype).toBe({ fp32: 'float32', fp16: 'float16', int8: 'int8' }[v]);
      expect(meta!.licence).toMatch(/CC-BY-SA/);
    }
  });
});

describe('mixnet runner', () => {
  it('maps TrackFeatures to clamped settings, leaving silent tracks alone', async () => {
    const tracks = fixture.runner.tracks;
    const out = await nodeMixnetRunner('fp32').run({ tracks: tracks.map((features) => ({ features })) });
    expect(out.tracks).toHaveLength(tracks.length);
    const { data, active } = mixnetInput(tracks);
    expect(tracks.length - active.length).toBe(fixture.runner.silent);
    const raw = await run('fp32', data, active.length);
    expect(out).toEqual(mixnetOutput(tracks.length, active, raw));
    tracks.forEach((f, i) => {
      const t = out.tracks[i];
      if (isSilentTrack(f)) {
        expect(t.gainDb).toBeNull();
      } else {
        expect(t.gainDb).not.toBeNull();
      }
      expect(t.comp).toBeNull();
      expect(Math.abs(t.pan)).toBeLessThanOrEqual(AUTOMIX_RANGES.pan.max);
    });
    // The graph's gains are relative (sum 0); the runner only clamps them.
    let rawSum = 0;
    active.forEach((_, row) => (rawSum += raw[row * MIXNET_OUTPUTS]));
    expect(Math.abs(rawSum)).toBeLessThan(1e-3);
    expect(out.master.gainDb).toBe(0);
  });

  it('ignores the overall level: the same session 9 dB louder gets the same settings', async () => {
    const louder = fixture.runner.tracks.map((f) => ({
      ...f,
      integratedLufs: f.integratedLufs + 9,
      shortTermP10: f.shortTermP10 + 9,
      shortTermP50: f.shortTermP50 + 9,
      shortTermP95: f.shortTermP95 + 9,
      peakDb: f.peakDb + 9,
      melMeanDb: f.melMeanDb.map((v) => v + 9),
    }));
    // The same tracks count as silent at both levels.
    expect(louder.map(isSilentTrack)).toEqual(fixture.runner.tracks.map(isSilentTrack));
    const runner = nodeMixnetRunner('fp32');
    const a = await runner.run({ tracks: fixture.runner.tracks.map((features) => ({ features })) });
    const b = await runner.run({ tracks: louder.map((features) => ({ features })) });
    a.tracks.forEach((t, i) => {
      if (t.gainDb === null) return;
      expect(b.tracks[i].gainDb!).toBeCloseTo(t.gainDb, 3);
      expect(b.tracks[i].pan).toBeCloseTo(t.pan, 4);
    });
  });

  it('is what the registry loads for each variant (with the browser loader)', async () => {
    for (const v of MIXNET_VARIANTS) expect((await runnerFor(`mixnet-${v}`)).id).toBe(`mixnet-${v}`);
  });

  it('clamps what the graph proposes to the contract ranges', () => {
    const out = mixnetOutput(2, [1], Float32Array.from([80, -3, 40, -40, NaN, 1]));
    expect(out.tracks[0].gainDb).toBeNull();
    expect(out.tracks[1]).toEqual({ gainDb: AUTOMIX_RANGES.gainDb.max, pan: -1, eqGainsDb: [12, -12, 0, 1], comp: null });
  });
});

describe('mixnet trainer', () => {
  it('computes gradients that match finite differences', () => {
    const random = mulberry32(3);
    const hidden = 6;
    const p = initParams(hidden, random);
    // Non-zero biases so that every ReLU path and the output bias are exercised.
    for (const b of ['b1', 'b2', 'b3', 'b4'] as const) p[b] = p[b].map(() => 0.1 * (random() - 0.5));
    const norm = { mu: Array.from({ length: MIXNET_FEATURES }, () => random()), invSd: Array.from({ length: MIXNET_FEATURES }, (_, c) => (c === 0 ? 0 : 0.5 + random())) };
    const sizes = [3, 1, 4];
    const T = 8;
    const batch = { x: Float32Array.from({ length: T * MIXNET_FEATURES }, () => 4 * (random() - 0.5)), y: Float32Array.from({ length: T * MIXNET_OUTPUTS }, () => random() - 0.5), sizes };
    const scales = lossScales({ panWeight: 0.5, eqWeight: 0.5 });
    const wd = 1e-3;
    // A Huber threshold that some errors cross, so both branches are checked.
    const huber = 0.15;
    const { grads } = lossAndGradients(p, norm, batch, scales, wd, null, huber);
    const h = 1e-6;
    let checked = 0;
    for (const name of Object.keys(p) as (keyof Params)[]) {
      for (let k = 0; k < 5; k++) {
        const i = Math.floor(random() * p[name].length);
        const keep = p[name][i];
        p[name][i] = keep + h;
        const up = lossAndGradients(p, norm, batch, scales, wd, null, huber).loss;
        p[name][i] = keep - h;
        const down = lossAndGradients(p, norm, batch, scales, wd, null, huber).loss;
        p[name][i] = keep;
        const numeric = (up - down) / (2 * h);
        expect(grads[name][i], `${name}[${i}]`).toBeCloseTo(numeric, 5);
        checked++;
      }
    }
    expect(checked).toBe(55);
  });

  it("forward pass equals the batched training forward pass, session by session", () => {
    const random = mulberry32(9);
    const hidden = 5;
    const p = initParams(hidden, random);
    const norm = { mu: new Array(MIXNET_FEATURES).fill(0), invSd: Array.from({ length: MIXNET_FEATURES }, (_, c) => (c === 0 ? 0 : 1)) };
    const sizes = [2, 3];
    const x = Float32Array.from({ length: 5 * MIXNET_FEATURES }, () => random() - 0.5);
    const { out } = lossAndGradients(p, norm, { x, y: new Float32Array(5 * MIXNET_OUTPUTS), sizes }, lossScales({ panWeight: 1, eqWeight: 1 }), 0, null);
    const w = { features: MIXNET_FEATURES, hidden, outputs: MIXNET_OUTPUTS, mu: norm.mu, invSd: norm.invSd } as Parameters<typeof mixnetForward>[0];
    for (const k of Object.keys(p) as (keyof Params)[]) if (k !== 'keep') w[k] = Array.from(p[k]);
    w.levelKeep = p.keep[0];
    const a = mixnetForward(w, x.subarray(0, 2 * MIXNET_FEATURES), 2);
    const b = mixnetForward(w, x.subarray(2 * MIXNET_FEATURES), 3);
    [...a, ...b].forEach((v, i) => expect(out[i]).toBeCloseTo(v, 10));
  });

  it('builds sessions with loudness relative to the session mean and mean-free gain targets', () => {
    const variant = (lufs: number, gain: number): Variant => ({ row: new Float32Array(MIXNET_FEATURES).fill(1), lufs, corruption: { gainDb: 0, pan: 0, tiltDbPerOctave: 0 }, target: Float32Array.from([gain, 0.1, 1, 2, 3, 4]) });
    const { x, y } = assembleSession([variant(-20, 3), variant(-30, -5)]);
    expect([x[0], x[MIXNET_FEATURES]]).toEqual([5, -5]);
    expect([y[0], y[6]]).toEqual([4, -4]);
    expect(x[1]).toBe(1);
  });
});

describe('corruption', () => {
  it('is undone exactly by the restoring settings (tilt as console EQ, balance pan round trip)', () => {
    const c = { gainDb: 5, pan: 0.4, tiltDbPerOctave: 1.2 };
    const r = restoringSettings(c);
    expect(r.pan).toBe(-0.4);
    expect(r.eqGainsDb).toEqual(tiltEqGains(1.2).map((g) => -g));
    expect(r.gainDb).toBeCloseTo(-5 - panRoundTripDb(0.4), 12);
    expect(panRoundTripDb(0.4)).toBeLessThan(0);
    const rate = 44100;
    const left = Float32Array.from({ length: rate }, (_, i) => 0.3 * Math.sin(i * 0.05) + 0.1 * Math.sin(i * 0.9));
    const right = Float32Array.from(left, (v, i) => 0.7 * v + 0.05 * Math.sin(i * 0.31));
    const corrupted = corruptAudio([left, right], rate, c);
    const settings = { ...defaultTrackSettings(), gainDb: r.gainDb, pan: r.pan };
    settings.eq.forEach((band, k) => (band.gainDb = r.eqGainsDb[k]));
    const restored = applyTrackSettings(corrupted, rate, settings);
    let err = 0, ref = 0;
    for (const [ch, orig] of [[restored[0], left], [restored[1], right]] as const) {
      for (let i = 0; i < orig.length; i++) {
        err += (ch[i] - orig[i]) ** 2;
        ref += orig[i] ** 2;
      }
    }
    expect(10 * Math.log10(err / ref)).toBeLessThan(-80);
  });

  it('moves features as analysing the corrupted audio does', () => {
    const rate = 44100;
    const frames = 6 * rate;
    let state = 11;
    const noise = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 31 - 1);
    // Low-passed stereo noise, louder on the left, partly correlated, the same spectrum on both sides
    // (the feature-space pan and EQ assume that: they see one mean spectrum for both channels).
    let lp = 0, lp2 = 0;
    const left = new Float32Array(frames);
    const right = new Float32Array(frames);
    for (let i = 0; i < frames; i++) {
      lp = 0.97 * lp + 0.03 * noise();
      lp2 = 0.97 * lp2 + 0.03 * noise();
      left[i] = 0.5 * lp + 0.02 * noise();
      right[i] = 0.4 * left[i] + 0.25 * lp2 + 0.01 * noise();
    }
    const stem = { file: 'noise.wav', features: analyseTrack([left, right], rate), meanPowerDb: meanPowerSpectrumDb([left, right], rate) };
    for (const c of [{ gainDb: -7, pan: 0, tiltDbPerOctave: 0 }, { gainDb: 0, pan: 0.45, tiltDbPerOctave: 0 }, { gainDb: 3, pan: -0.3, tiltDbPerOctave: 1.4 }]) {
      const predicted = corruptFeatures(stem, c);
      const actual = analyseTrack(corruptAudio([left, right], rate, c), rate);
      const label = JSON.stringify(c);
      expect(Math.abs(predicted.integratedLufs - actual.integratedLufs), label).toBeLessThan(0.05);
      expect(Math.abs(predicted.shortTermP50 - actual.shortTermP50), label).toBeLessThan(0.05);
      expect(Math.abs(predicted.spectralTiltDbPerOctave - actual.spectralTiltDbPerOctave), label).toBeLessThan(0.02);
      expect(Math.abs(predicted.spectralCentroidHz / actual.spectralCentroidHz - 1), label).toBeLessThan(0.01);
      expect(Math.abs(predicted.stereoBalance! - actual.stereoBalance!), label).toBeLessThan(0.005);
      expect(Math.abs(predicted.stereoWidth - actual.stereoWidth), label).toBeLessThan(0.005);
      expect(Math.abs(predicted.stereoCorrelation - actual.stereoCorrelation), label).toBeLessThan(0.005);
      predicted.bandEnergiesDb.forEach((v, b) => expect(Math.abs(v - actual.bandEnergiesDb[b]), `${label} band ${b}`).toBeLessThan(0.1));
      const melErr = predicted.melMeanDb.reduce((s, v, m) => s + Math.abs(v - actual.melMeanDb[m]), 0) / predicted.melMeanDb.length;
      expect(melErr, label).toBeLessThan(0.05);
      // Level-free input columns do not move with gain.
      if (c.pan === 0 && c.tiltDbPerOctave === 0) {
        const a = mixnetFeatureRow(stem.features, 0);
        const b = mixnetFeatureRow(predicted, 0);
        for (let k = 1; k < MIXNET_FEATURES; k++) expect(b[k]).toBeCloseTo(a[k], 4);
      }
    }
  });

  it('measures the stereo balance of a panned track', () => {
    const rate = 44100;
    const left = Float32Array.from({ length: 2 * rate }, (_, i) => 0.5 * Math.sin(i * 0.07));
    expect(analyseTrack([left, new Float32Array(left.length)], rate).stereoBalance).toBeCloseTo(-1, 6);
    expect(analyseTrack([left, Float32Array.from(left, (v) => 0.5 * v)], rate).stereoBalance).toBeCloseTo(-0.6, 3);
    expect(analyseTrack([left], rate).stereoBalance).toBe(0);
  });

  it('converts float16 the IEEE way', () => {
    for (const v of [0, 1, -2.5, 65504, 6.1035e-5, 5.96e-8, 1 / 3, -1000.7]) expect(fromHalfBits(toHalfBits(v))).toBeCloseTo(v, Math.abs(v) > 100 ? 0 : 3);
    expect(toHalfBits(1)).toBe(0x3c00);
    expect(toHalfBits(-2)).toBe(0xc000);
    expect(toHalfBits(1e6)).toBe(0x7c00);
  });
});
