// Separation in a worker: the part of the song it is given, in overlapping segments (so only a few segments of
// spectra are alive at once), each separated by the classical method or an ONNX model, joined by crossfades.
import { transfer } from 'comlink';
import { fftJsReal, loadPffftReal, type RealFft } from '../../../dsp/real-fft';
import { contextSamples, FOUR_STEMS, paramsForRate, separateClassical } from '../../../dsp/separation';
import { addSegment, overlapFor, planSegments, segmentWeights } from '../../../dsp/segments';
import { wholePercents } from '../../../shared/jobs';
import type { SeparationRuntime } from '../../../shared/separation';
import { configureOrtForBrowser } from '../../../ml/browser';
import { openUmxSession } from './umx-session';
import { separateUmxVocals, UMX_CONTEXT_SAMPLES, UMX_FFT, UMX_HOP } from '../../../../models/umx-vocals/runner';
import type { SeparationWorkerApi } from '../contract';

const PFFFT_WASM = new URL('../../../../node_modules/@echogarden/pffft-wasm/dist/simd/pffft.wasm', import.meta.url).href;

const ffts = new Map<number, Promise<{ fft: RealFft; kind: SeparationRuntime['fft'] }>>();
/** PFFFT (WASM SIMD), or fft.js where it cannot load: the same stems within float rounding, ~8× slower. */
function realFft(size: number): Promise<{ fft: RealFft; kind: SeparationRuntime['fft'] }> {
  let p = ffts.get(size);
  if (!p) {
    p = loadPffftReal(size, PFFFT_WASM)
      .then((fft) => ({ fft, kind: 'pffft' as const }))
      .catch((e: unknown) => {
        console.warn('PFFFT did not load; separation uses fft.js:', e);
        return { fft: fftJsReal(size), kind: 'fft.js' as const };
      });
    ffts.set(size, p);
  }
  return p;
}

/** Crossfade length between segments. */
const FADE_SECONDS = 1;

export const separationWorker: SeparationWorkerApi = {
  async separate(req, onProgress) {
    const report = wholePercents(onProgress);
    const { sampleRate, separator, part } = req;
    const length = req.channels[0].length;
    const where = part.count > 1 ? `part ${part.index + 1}/${part.count} · ` : '';
    let stemNames: string[];
    let runtime: SeparationRuntime;
    let run: (channels: Float32Array[], onStage: (stage: string, fraction: number) => void) => Promise<Float32Array[][]>;
    let context: number;
    let align: number;

    if (separator.kind === 'classical') {
      const p = paramsForRate(sampleRate);
      const { fft, kind } = await realFft(p.fftSize);
      stemNames = [...FOUR_STEMS];
      runtime = { separator: 'classical-hpss', ep: 'cpu', fft: kind, fallbackReason: null, fetchEvents: [] };
      context = contextSamples(p);
      align = p.hopSize;
      run = async (channels, onStage) => {
        const stems = separateClassical(channels, sampleRate, fft, p, { onStage });
        return FOUR_STEMS.map((s) => stems[s]);
      };
    } else {
      configureOrtForBrowser();
      const { fft, kind } = await realFft(UMX_FFT);
      report({ fraction: null, stage: `${where}loading model` });
      const { session, runtime: rt } = await openUmxSession(separator, (p) =>
        report({ fraction: p.total ? p.loaded / p.total : null, stage: p.stage === 'download' ? `${where}downloading model` : `${where}checking model` }),
      );
      stemNames = ['vocals', 'accompaniment'];
      runtime = { separator: separator.modelId, ep: rt.ep, fft: kind, fallbackReason: rt.fallbackReason, fetchEvents: rt.fetchEvents };
      context = UMX_CONTEXT_SAMPLES;
      align = UMX_HOP;
      run = async (channels, onStage) => {
        // The model takes stereo: a mono part runs as two identical channels and keeps one.
        const stereo = channels.length === 2 ? channels : [channels[0], channels[0]];
        const out = await separateUmxVocals(stereo, session, fft, { onStage });
        return [out.vocals.slice(0, channels.length), out.accompaniment.slice(0, channels.length)];
      };
    }

    const fade = Math.round(FADE_SECONDS * sampleRate);
    const segment = Math.max(Math.round(req.segmentSeconds * sampleRate), 2 * overlapFor(context, fade) + align);
    const plan = planSegments(length, { segment, overlap: overlapFor(context, fade), fade, align });
    const out = stemNames.map(() => req.channels.map(() => new Float32Array(length)));
    for (const [i, seg] of plan.entries()) {
      const slice = req.channels.map((c) => c.subarray(seg.start, seg.end));
      const stage = (name: string, f: number) => report({ fraction: (i + f) / plan.length, stage: `${where}segment ${i + 1}/${plan.length} · ${name}` });
      const stems = await run(slice, stage);
      const w = segmentWeights(seg);
      stems.forEach((chs, s) => chs.forEach((ch, c) => addSegment(out[s][c], ch, seg, w)));
    }
    report({ fraction: 1, stage: `${where}done` });
    const result = { stems: stemNames.map((name, s) => ({ name, channels: out[s] })), runtime, segments: plan.length };
    return transfer(result, out.flat().map((c) => c.buffer as ArrayBuffer));
  },
};
