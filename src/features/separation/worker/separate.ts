// Separation in a worker: the part of the song it is given, in overlapping segments (so only a few segments of
// spectra are alive at once), each separated by the classical method or an ONNX model, joined by crossfades.
import { transfer } from 'comlink';
import { fftJsReal, loadPffftReal, type RealFft } from '../../../dsp/real-fft';
import { FOUR_STEMS, paramsForRate } from '../../../dsp/separation';
import { classicalRun, separateInSegments } from './segmented';
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

export const separationWorker: SeparationWorkerApi = {
  async separate(req, onProgress) {
    const report = wholePercents(onProgress);
    const { sampleRate, separator, part } = req;
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
      ({ context, align, run } = classicalRun(sampleRate, fft, p));
    } else {
      configureOrtForBrowser();
      const { fft, kind } = await realFft(UMX_FFT);
      report({ fraction: null, stage: `${where}loading model` });
      const { session, runtime: rt } = await openUmxSession(separator, (p) =>
        report({ fraction: p.total ? p.loaded / p.total : null, stage: p.stage === 'download' ? `${where}downloading model` : `${where}checking model` }),
      );
      stemNames = ['vocals', 'accompaniment'];
      runtime = { separator: separator.meta.id, ep: rt.ep, fft: kind, fallbackReason: rt.fallbackReason, fetchEvents: rt.fetchEvents };
      context = UMX_CONTEXT_SAMPLES;
      align = UMX_HOP;
      run = async (channels, onStage) => {
        // The model takes stereo: a mono part runs as two identical channels and keeps one.
        const stereo = channels.length === 2 ? channels : [channels[0], channels[0]];
        const out = await separateUmxVocals(stereo, session, fft, { onStage });
        return [out.vocals.slice(0, channels.length), out.accompaniment.slice(0, channels.length)];
      };
    }

    const { stems: out, segments } = await separateInSegments(req.channels, sampleRate, stemNames.length, { run, context, align }, req.segmentSeconds, (fraction, i, n, name) =>
      report({ fraction, stage: `${where}segment ${i + 1}/${n} · ${name}` }),
    );
    report({ fraction: 1, stage: `${where}done` });
    const result = { stems: stemNames.map((name, s) => ({ name, channels: out[s] })), runtime, segments };
    return transfer(result, out.flat().map((c) => c.buffer as ArrayBuffer));
  },
};
