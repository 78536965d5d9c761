// The silero VAD as the app runs it: the shipped file is the one the registry names, its inputs and outputs
// are what its runner (models/silero-vad/runner.ts) feeds, batch rows are independent, silence is never sent to the model, and sparse probing
// agrees with scoring every frame.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelFilePath, nodeModelMeta } from '../../models/registry-node';
import { scoreWindows, speechProbability, activeVadFrames, activeRuns, planProbes, VAD_FRAME, SPEECH_ON, SILERO_VAD_ID } from '../../models/silero-vad/runner';
import { registrySource, verifyModelBytes } from '../../src/ml/model-fetch';
import { decimateByTwo } from '../../src/dsp/halfband';
import { LEVEL_HOP_S, levelContour } from '../../src/features/podcast/features';
import { nativeSliceDecoder, vadModel } from './podcast-helpers';
import { openSession, type TensorData } from '../../src/ml/ort';
import { deriveSileroVad8k } from '../../scripts/silero-vad-8k';
import { decodeRange } from '../../src/features/podcast/analyse';
import { mp3Source } from '../../src/features/podcast/source';
import { indexMp3 } from '../../src/features/podcast/mp3-index';
// @ts-expect-error plain ESM script without types
import { generatePodcastFixtures, PODCAST_FIXTURE_DIR } from '../fixtures/podcast-episode.mjs';

const SILERO_VAD_META = nodeModelMeta(SILERO_VAD_ID, 'vad');

let x16: Float32Array;
let x8: Float32Array;

beforeAll(async () => {
  generatePodcastFixtures();
  const path = join(PODCAST_FIXTURE_DIR, 'episode.mp3');
  const source = mp3Source(indexMp3(new Uint8Array(readFileSync(path))));
  x16 = (await decodeRange(nativeSliceDecoder(path, 'mp3'), source, 20, 80, 16000, 1)).channels[0];
  x8 = decimateByTwo(x16);
}, 120_000);

describe('silero VAD model', () => {
  it('is the file the registry entry names, by SHA-256 and size', async () => {
    const bytes = readFileSync(modelFilePath(SILERO_VAD_META));
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(SILERO_VAD_META.files[0].sha256);
    expect(bytes.length).toBe(SILERO_VAD_META.files[0].sizeBytes);
    const source = registrySource(SILERO_VAD_META, modelFilePath(SILERO_VAD_META));
    await expect(verifyModelBytes(source, new Uint8Array(bytes))).resolves.toBeInstanceOf(Uint8Array);
    const damaged = new Uint8Array(bytes);
    damaged[1000] ^= 1;
    await expect(verifyModelBytes(source, damaged)).rejects.toThrow(/damaged or a different version/);
    expect(SILERO_VAD_META.licence).toMatch(/^MIT/);
  });

  it('is scripts/silero-vad-8k.ts applied to the file in @ricky0123/vad-web, which is the one the registry names', () => {
    const source = readFileSync(SILERO_VAD_META.derivedFrom!.path);
    expect(createHash('sha256').update(source).digest('hex')).toBe(SILERO_VAD_META.derivedFrom!.sha256);
    expect(source.length).toBe(SILERO_VAD_META.derivedFrom!.sizeBytes);
    const derived = deriveSileroVad8k(new Uint8Array(source));
    expect(Buffer.compare(Buffer.from(derived), readFileSync(modelFilePath(SILERO_VAD_META)))).toBe(0);
  });

  it("gives the shipped graph's 8 kHz outputs and states, frame after frame, at several batch sizes", async () => {
    const derived = await vadModel();
    const shipped = await openSession('silero-vad-shipped', async () => new Uint8Array(readFileSync(SILERO_VAD_META.derivedFrom!.path)));
    const sr: TensorData = { type: 'int64', data: BigInt64Array.from([8000n]), dims: [] };
    const row = 32 + VAD_FRAME;
    for (const rows of [1, 3, 128]) {
      const zero = (): TensorData => ({ type: 'float32', data: new Float32Array(2 * rows * 128), dims: [2, rows, 128] });
      let a = zero();
      let b = zero();
      let worst = 0;
      for (let f = 0; f < 12; f++) {
        const input = new Float32Array(rows * row);
        // Rows spread over the minute of speech, music and noise, stepping a frame at a time.
        for (let r = 0; r < rows; r++) input.set(x8.subarray((r * 13 + f) * VAD_FRAME, (r * 13 + f) * VAD_FRAME + row), r * row);
        const x: TensorData = { type: 'float32', data: input, dims: [rows, row] };
        const outA = await shipped.run({ input: x, state: a, sr });
        const outB = await derived.run({ input: x, state: b });
        expect(outB.output.dims).toEqual([rows, 1]);
        expect(outB.stateN.dims).toEqual([2, rows, 128]);
        const pa = outA.output.data as Float32Array;
        const pb = outB.output.data as Float32Array;
        const sa = outA.stateN.data as Float32Array;
        const sb = outB.stateN.data as Float32Array;
        for (let i = 0; i < pa.length; i++) worst = Math.max(worst, Math.abs(pa[i] - pb[i]));
        for (let i = 0; i < sa.length; i++) worst = Math.max(worst, Math.abs(sa[i] - sb[i]) / 10);
        a = outA.stateN;
        b = outB.stateN;
      }
      expect(worst).toBeLessThan(1e-5);
    }
  });

  it('has the inputs and outputs its runner feeds', async () => {
    const s = await vadModel();
    expect([...s.inputNames].sort()).toEqual(['input', 'state']);
    expect([...s.outputNames].sort()).toEqual(['output', 'stateN']);
  });

  it('scores batch rows independently: a window batched with others equals the window alone', async () => {
    const s = await vadModel();
    const windows = [100, 700, 1300].map((start) => ({ start, frames: 12, warmup: 4 }));
    const together = new Float32Array(Math.floor(x8.length / VAD_FRAME)).fill(NaN);
    await scoreWindows(s, x8, windows, together);
    for (const w of windows) {
      const alone = new Float32Array(together.length).fill(NaN);
      await scoreWindows(s, x8, [w], alone);
      for (let k = w.start + w.warmup; k < w.start + w.frames; k++) expect(together[k]).toBeCloseTo(alone[k], 5);
    }
  });
});

describe('sparse voice activity', () => {
  it('never sends silence to the model', async () => {
    const s = await vadModel();
    const quiet = new Float32Array(16000 * 20).map(() => (Math.random() - 0.5) * 1e-4);
    const q8 = decimateByTwo(quiet);
    const r = await speechProbability(s, q8, levelContour(quiet), { levelHopS: LEVEL_HOP_S });
    expect(r.modelFrames).toBe(0);
    expect(r.prob.every((p) => p === 0)).toBe(true);
  });

  it('scores a fraction of the frames and agrees with scoring them all on ≥ 90 % of active frames', async () => {
    const s = await vadModel();
    const frames = Math.floor(x8.length / VAD_FRAME);
    const sparse = await speechProbability(s, x8, levelContour(x16), { levelHopS: LEVEL_HOP_S });
    const dense = new Float32Array(frames).fill(NaN);
    await scoreWindows(s, x8, [{ start: 0, frames, warmup: 0 }], dense);
    const { active } = activeVadFrames(levelContour(x16), frames, LEVEL_HOP_S);
    let agree = 0;
    let n = 0;
    for (let k = 0; k < frames; k++) {
      if (!active[k]) continue;
      n++;
      if (sparse.prob[k] >= SPEECH_ON === dense[k] >= SPEECH_ON) agree++;
    }
    expect(agree / n).toBeGreaterThan(0.9);
    // Probes cost a fraction of a dense pass (refinement included).
    expect(sparse.modelFrames).toBeLessThan(0.6 * n);
    expect(planProbes(activeRuns(active)).length).toBeGreaterThan(5);
  });
});
