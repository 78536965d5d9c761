// The export loop on real material: the real mastering chain, a real MP3 encode and decode (native ffmpeg with the
// app's libmp3lame settings) and the real BS.1770 meter, plus its decisions on scripted measurements.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyseForMastering, defaultMasteringSettings, masterMix, type MasteredAudio } from '../../src/dsp/mastering';
import { measureLoudness } from '../../src/dsp/loudness';
import { interleavePcm16 } from '../../src/dsp/pcm16';
import {
  EXPORT_LUFS_TOLERANCE,
  LOSSY_FIRST_PASS_HEADROOM_DB,
  MAX_EXPORT_PASSES,
  nextCorrection,
  runExportLoop,
  type ExportLoopStages,
  type FileLoudness,
} from '../../src/media/export-loop';

const RATE = 44100;
const dir = mkdtempSync(join(tmpdir(), 'export-loop-'));

/** Full-band, dense material (kick, detuned saws, bright noise bursts): what a loud master limits hard and an MP3 overshoots. */
function denseMix(seconds: number, level: number): [Float32Array, Float32Array] {
  const n = Math.round(seconds * RATE);
  const l = new Float32Array(n);
  const r = new Float32Array(n);
  let x = 3;
  const rand = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  for (let i = 0; i < n; i++) {
    const t = i / RATE;
    const beat = t % 0.5;
    const kick = Math.sin(2 * Math.PI * 55 * beat * (1 + 3 * Math.exp(-beat * 30))) * Math.exp(-beat * 8);
    const hat = Math.exp(-((t + 0.25) % 0.25) * 40);
    const saw = ((t * 220) % 1) * 2 - 1;
    const saw2 = ((t * 331.1) % 1) * 2 - 1;
    l[i] = level * (0.8 * kick + 0.3 * saw + 0.2 * saw2 + 0.35 * hat * rand());
    r[i] = level * (0.8 * kick + 0.3 * saw2 + 0.2 * saw + 0.35 * hat * rand());
  }
  return [l, r];
}

let files = 0;

/** The app's MP3: 16-bit PCM into libmp3lame 320k CBR without the bit reservoir (src/media/ffmpeg.ts). */
function encodeMp3(m: MasteredAudio): Uint8Array {
  const name = join(dir, `pass-${++files}`);
  writeFileSync(`${name}.s16`, interleavePcm16([m.left, m.right]).samples);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 's16le', '-ar', String(RATE), '-ac', '2', '-i', `${name}.s16`, '-c:a', 'libmp3lame', '-b:a', '320k', '-reservoir', '0', '-f', 'mp3', `${name}.mp3`]);
  return new Uint8Array(readFileSync(`${name}.mp3`));
}

/** Decoded as a player would, then measured with the app's meter. */
function measureMp3(bytes: Uint8Array): FileLoudness {
  const name = join(dir, `check-${++files}.mp3`);
  writeFileSync(name, bytes);
  const out = execFileSync('ffmpeg', ['-v', 'error', '-i', name, '-f', 'f32le', '-ac', '2', '-ar', String(RATE), '-'], { maxBuffer: 1 << 28 });
  const inter = new Float32Array(out.buffer, out.byteOffset, out.byteLength / 4);
  const left = inter.filter((_, i) => i % 2 === 0);
  const right = inter.filter((_, i) => i % 2 === 1);
  const report = measureLoudness([left, right], RATE);
  return { integratedLufs: report.integratedLufs, truePeakDb: report.truePeakDb };
}

/** The real stages: one analysis of the mix reused by every pass, as the mastering worker does. */
function realStages(left: Float32Array, right: Float32Array, targetLufs: number): ExportLoopStages<MasteredAudio, Uint8Array> {
  const settings = { ...defaultMasteringSettings(), targetLufs, ceilingDbtp: -1 };
  const analysis = analyseForMastering(left, right, RATE, settings);
  return {
    master: async (extraHeadroomDb, gainTrimDb) => masterMix(left, right, RATE, settings, { extraHeadroomDb, gainTrimDb, analysis }),
    encode: async (m) => encodeMp3(m),
    verify: async (bytes) => measureMp3(bytes),
  };
}

describe('runExportLoop with the real chain and a real MP3', () => {
  const [left, right] = denseMix(8, 0.3);

  it('corrects the MP3 overshoot of a pass made without headroom: the final file is under the ceiling and on target', async () => {
    // lossy: false starts without the first-pass headroom, so the first file shows the encoder's own overs.
    const loop = await runExportLoop({ targetLufs: -9, ceilingDbtp: -1, lossy: false }, realStages(left, right, -9));
    const [first] = loop.passes;
    expect(first.headroomDb).toBe(0);
    expect(first.truePeakDb, 'the encode itself overshoots the ceiling the master met').toBeGreaterThan(-1);
    expect(loop.passes.length).toBeGreaterThanOrEqual(2);
    expect(loop.passes.length).toBeLessThanOrEqual(MAX_EXPORT_PASSES);
    // The second pass got twice the overshoot plus a margin.
    expect(loop.passes[1].headroomDb).toBeCloseTo(2 * (first.truePeakDb + 1) + 0.05, 9);
    expect(loop.check.truePeakDb).toBeLessThanOrEqual(-1);
    expect(Math.abs(loop.check.integratedLufs - -9)).toBeLessThanOrEqual(EXPORT_LUFS_TOLERANCE);
    expect(loop.withinSpec).toBe(true);
    expect(loop.check).toEqual(measureMp3(loop.encoded));
  });

  it('meets −14 LUFS and −1 dBTP from the lossy first-pass headroom, as the app exports', async () => {
    const loop = await runExportLoop({ targetLufs: -14, ceilingDbtp: -1, lossy: true }, realStages(left, right, -14));
    expect(loop.passes[0].headroomDb).toBe(LOSSY_FIRST_PASS_HEADROOM_DB);
    expect(loop.check.truePeakDb).toBeLessThanOrEqual(-1);
    expect(Math.abs(loop.check.integratedLufs - -14)).toBeLessThanOrEqual(EXPORT_LUFS_TOLERANCE);
    expect(loop.withinSpec && loop.onTarget && loop.underCeiling).toBe(true);
    expect(loop.timings.master_s + loop.timings.encode_s + loop.timings.verify_s).toBeGreaterThan(0);
  });

  it('exports a silent mix in one pass, silent and not within spec', async () => {
    const silence = new Float32Array(RATE * 3);
    const loop = await runExportLoop({ targetLufs: -14, ceilingDbtp: -1, lossy: true }, realStages(silence, silence.slice(), -14));
    expect(loop.passes.length).toBe(1);
    expect(loop.silent).toBe(true);
    expect(loop.check.integratedLufs).toBe(-Infinity);
    expect(loop.withinSpec).toBe(false);
  });
});

/** Stages that master nothing and report the scripted measurements, one per pass, recording what the loop asked for. */
function scripted(checks: FileLoudness[], gainCapped = false) {
  const asked: { headroomDb: number; gainTrimDb: number; pass: number }[] = [];
  const stages: ExportLoopStages<{ report: { gainCapped: boolean }; pass: number }, number> = {
    master: async (headroomDb, gainTrimDb, pass) => {
      asked.push({ headroomDb, gainTrimDb, pass });
      return { report: { gainCapped }, pass };
    },
    encode: async (m) => m.pass,
    verify: async (pass) => checks[Math.min(pass, checks.length) - 1],
  };
  return { asked, stages };
}

describe('runExportLoop decisions', () => {
  const spec = { targetLufs: -14, ceilingDbtp: -1, lossy: true };

  it('stops after one pass when the file is on target and under the ceiling', async () => {
    const { asked, stages } = scripted([{ integratedLufs: -14.3, truePeakDb: -1.2 }]);
    const loop = await runExportLoop(spec, stages);
    expect(asked).toEqual([{ headroomDb: LOSSY_FIRST_PASS_HEADROOM_DB, gainTrimDb: 0, pass: 1 }]);
    expect(loop.withinSpec).toBe(true);
    expect(loop.encoded).toBe(1);
  });

  it('adds twice the overshoot plus 0.05 dB of headroom, and trims a loudness miss over 0.2 LU', async () => {
    const { asked, stages } = scripted([
      { integratedLufs: -14.6, truePeakDb: -0.8 },
      { integratedLufs: -14.1, truePeakDb: -1.05 },
    ]);
    const loop = await runExportLoop(spec, stages);
    expect(asked.length).toBe(2);
    expect(asked[1].headroomDb).toBeCloseTo(0.7 + 2 * 0.2 + 0.05, 12);
    expect(asked[1].gainTrimDb).toBeCloseTo(0.6, 12);
    expect(loop.passes.map((p) => p.headroomDb)).toEqual(asked.map((a) => a.headroomDb));
    expect(loop.withinSpec).toBe(true);
  });

  it('does not trim a small miss while it corrects an overshoot', async () => {
    expect(nextCorrection({ integratedLufs: -14.15, truePeakDb: -0.9 }, spec, false)).toEqual({ headroomDb: 2 * (-0.9 + 1) + 0.05, gainTrimDb: 0 });
    expect(nextCorrection({ integratedLufs: -14.45, truePeakDb: -1 }, spec, false)).toBeNull();
  });

  it('stops at the pass limit with the last file, not within spec', async () => {
    const { asked, stages } = scripted([{ integratedLufs: -14, truePeakDb: -0.5 }]);
    const loop = await runExportLoop(spec, stages);
    expect(asked.map((a) => a.pass)).toEqual([1, 2, 3, 4]);
    expect(loop.passes.length).toBe(MAX_EXPORT_PASSES);
    expect(asked[3].headroomDb).toBeCloseTo(0.7 + 3 * 1.05, 12);
    expect(loop.encoded).toBe(4);
    expect(loop.underCeiling).toBe(false);
    expect(loop.withinSpec).toBe(false);
  });

  it('leaves a gain-capped master quiet: no trim, one pass, within spec though off target', async () => {
    const { asked, stages } = scripted([{ integratedLufs: -19, truePeakDb: -6 }], true);
    const loop = await runExportLoop(spec, stages);
    expect(asked.length).toBe(1);
    expect(loop.gainCapped).toBe(true);
    expect(loop.onTarget).toBe(false);
    expect(loop.withinSpec).toBe(true);
  });

  it('trims a quiet file that is not capped, and keeps going while it misses', async () => {
    const { asked, stages } = scripted([
      { integratedLufs: -15, truePeakDb: -3 },
      { integratedLufs: -14.8, truePeakDb: -2 },
      { integratedLufs: -14.2, truePeakDb: -1.5 },
    ]);
    const loop = await runExportLoop(spec, stages);
    expect(asked.map((a) => a.gainTrimDb)).toEqual([0, 1, expect.closeTo(1.8, 12)]);
    expect(asked.every((a) => a.headroomDb === 0.7)).toBe(true);
    expect(loop.passes.length).toBe(3);
  });

  it('treats a silent file as settled: one pass, silent, not within spec', async () => {
    const { asked, stages } = scripted([{ integratedLufs: -Infinity, truePeakDb: -Infinity }]);
    const loop = await runExportLoop(spec, stages);
    expect(asked.length).toBe(1);
    expect(loop.silent).toBe(true);
    expect(loop.withinSpec).toBe(false);
  });

  it('starts a lossless export without headroom and refuses zero passes', async () => {
    const { asked, stages } = scripted([{ integratedLufs: -14, truePeakDb: -1.1 }]);
    await runExportLoop({ ...spec, lossy: false }, stages);
    expect(asked[0].headroomDb).toBe(0);
    await expect(runExportLoop({ ...spec, maxPasses: 0 }, stages)).rejects.toThrow(RangeError);
  });
});
