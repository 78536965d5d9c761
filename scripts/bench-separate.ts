// npm run bench:separate: seconds to separate a 4-minute stereo song with each separator available offline, as a
// ratio to the song's length, in one Node process on this machine (one core; the app runs two workers, one half each).
// The song is a known-stems song (scripts/separation/known-stems.ts) looped to 4 minutes. With UMX_ONNX=path the
// Open-Unmix vocals graph is timed too (ORT WASM in Node).
import { readFileSync } from 'node:fs';
import { loadPffftReal, fftJsReal } from '../src/dsp/real-fft';
import { paramsForRate } from '../src/dsp/separation';
import { classicalRun, separateInSegments } from '../src/features/separation/worker/segmented';
import { renderSong, SONGS } from './separation/known-stems';

const SECONDS = 240;
const song = renderSong(SONGS[0]);
const rate = song.sampleRate;
const mix = song.mix.map((c) => {
  const out = new Float32Array(SECONDS * rate);
  for (let i = 0; i < out.length; i++) out[i] = c[i % c.length];
  return out;
});
const p = paramsForRate(rate);
const results: { separator: string; seconds: number; ratio: number }[] = [];

async function time(label: string, run: () => Promise<unknown>): Promise<void> {
  const t0 = performance.now();
  await run();
  const seconds = (performance.now() - t0) / 1000;
  results.push({ separator: label, seconds: +seconds.toFixed(1), ratio: +(seconds / SECONDS).toFixed(3) });
  console.log(`${label}: ${seconds.toFixed(1)} s for ${SECONDS} s (${(seconds / SECONDS).toFixed(3)}× the song's length)`);
}

const pffft = await loadPffftReal(p.fftSize);
await time('classical (PFFFT), one core', () => separateInSegments(mix, rate, 4, classicalRun(rate, pffft, p), 30));
if (process.argv.includes('--fftjs')) await time('classical (fft.js), one core', () => separateInSegments(mix, rate, 4, classicalRun(rate, fftJsReal(p.fftSize), p), 30));
if (process.env.UMX_ONNX) {
  const [{ openSession }, { separateUmxVocals, UMX_CONTEXT_SAMPLES, UMX_FFT, UMX_HOP }] = await Promise.all([import('../src/ml/ort'), import('../models/umx-vocals/runner')]);
  const session = await openSession('umx-bench', new Uint8Array(readFileSync(process.env.UMX_ONNX)));
  const fft = await loadPffftReal(UMX_FFT);
  await time(`Open-Unmix vocals ${process.env.UMX_ONNX} (ORT WASM)`, () =>
    separateInSegments(mix, rate, 2, { context: UMX_CONTEXT_SAMPLES, align: UMX_HOP, run: async (ch) => { const o = await separateUmxVocals(ch, session, fft); return [o.vocals, o.accompaniment]; } }, 30),
  );
}
console.log(JSON.stringify({ song: `${SONGS[0].name} looped to ${SECONDS} s`, results }, null, 2));
