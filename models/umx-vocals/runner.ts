// Open-Unmix's layout (sigsep/open-unmix-pytorch; the UMX-HQ vocals export at huggingface.co/edgetools/umx-hq): the
// graph maps the mix's STFT magnitudes float32 [1, 2, 2049, frames] (44.1 kHz, FFT 4096, hop 1024, periodic Hann,
// centred) to the vocals' magnitudes of the same shape. The STFT, the mask and the iSTFT are ours: vocals get
// V²/(V² + R²) of each bin (R = the rest of the mix's magnitude, a two-source Wiener mask), accompaniment the rest,
// so the two sum to the mix.
import type { ModelSession, TensorData } from '../../src/ml/ort';
import type { RealFft } from '../../src/dsp/real-fft';
import { complexStft, maskedIstft, synthesisNorm, type ComplexStft } from '../../src/dsp/spectral-stft';
import { CancelledError } from '../../src/shared/errors';

export const UMX_RATE = 44_100;
export const UMX_FFT = 4096;
export const UMX_HOP = 1024;
export const UMX_BINS = UMX_FFT / 2 + 1;
/** Frames of BiLSTM context on each side that a crossfade keeps from a segment's ends (~3 s). */
export const UMX_CONTEXT_SAMPLES = 3 * UMX_RATE;

/** |X| of two channels' STFTs as the graph's input, [1, 2, bins, frames] (bin-major per channel). */
export function umxInput(stfts: ComplexStft[]): Float32Array {
  const { frames, size } = stfts[0];
  const half = size / 2;
  const bins = half + 1;
  const out = new Float32Array(2 * bins * frames);
  for (let c = 0; c < 2; c++) {
    const d = stfts[c].data;
    const base = c * bins * frames;
    for (let t = 0; t < frames; t++) {
      const x = d.subarray(t * size, (t + 1) * size);
      out[base + t] = Math.abs(x[0]);
      out[base + half * frames + t] = Math.abs(x[1]);
      for (let k = 1; k < half; k++) out[base + k * frames + t] = Math.hypot(x[2 * k], x[2 * k + 1]);
    }
  }
  return out;
}

/** The self-check's fixed input: a short, deterministic spectrum (8 frames). */
export function umxCheckFeeds(inputName = 'mix'): Record<string, TensorData> {
  const frames = 8;
  const data = new Float32Array(2 * UMX_BINS * frames);
  for (let i = 0; i < data.length; i++) data[i] = Math.abs(Math.sin(i * 0.37)) * (1 + (i % 7));
  return { [inputName]: { type: 'float32', data, dims: [1, 2, UMX_BINS, frames] } };
}

export interface TwoStems {
  vocals: Float32Array[];
  accompaniment: Float32Array[];
}

/** Separates a stereo stretch at 44.1 kHz into vocals and accompaniment with an Open-Unmix vocals graph. */
export async function separateUmxVocals(channels: Float32Array[], session: ModelSession, fft: RealFft, hooks: { signal?: { readonly aborted: boolean }; onStage?: (stage: string, fraction: number) => void } = {}): Promise<TwoStems> {
  if (channels.length !== 2) throw new RangeError(`Open-Unmix takes stereo; got ${channels.length} channel(s)`);
  if (fft.size !== UMX_FFT) throw new RangeError(`Open-Unmix needs a ${UMX_FFT}-point FFT, got ${fft.size}`);
  hooks.onStage?.('spectrogram', 0);
  const stfts = channels.map((c) => complexStft(c, fft, UMX_HOP));
  const frames = stfts[0].frames;
  const mix = umxInput(stfts);
  hooks.onStage?.('model', 0.15);
  const name = session.inputNames[0];
  const out = await session.run({ [name]: { type: 'float32', data: mix, dims: [1, 2, UMX_BINS, frames] } });
  if (hooks.signal?.aborted) throw new CancelledError('Separation cancelled');
  const v = out[session.outputNames[0]];
  if (!v || v.type !== 'float32' || v.data.length !== mix.length) {
    throw new Error(`The model's output "${session.outputNames[0]}" is ${v ? `${v.type} [${v.dims.join(', ')}]` : 'missing'}; Open-Unmix's layout is float32 [1, 2, ${UMX_BINS}, ${frames}].`);
  }
  const vocalMask = new Float32Array(mix.length);
  for (let i = 0; i < mix.length; i++) {
    const vocal = Math.min(Math.max(v.data[i], 0), mix[i]);
    const rest = mix[i] - vocal;
    const e = vocal * vocal + rest * rest;
    // NaN from the model is treated as "no vocals" rather than spread into the stems.
    vocalMask[i] = e > 1e-30 && Number.isFinite(e) ? (vocal * vocal) / e : 0;
  }
  const norm = synthesisNorm(channels[0].length, UMX_FFT, UMX_HOP);
  const gainsOf = (c: number, vocals: boolean) => (t: number, gains: Float32Array) => {
    const base = c * UMX_BINS * frames;
    for (let k = 0; k < UMX_BINS; k++) {
      const m = vocalMask[base + k * frames + t];
      gains[k] = vocals ? m : 1 - m;
    }
  };
  hooks.onStage?.('vocals', 0.6);
  const vocals = stfts.map((s, c) => maskedIstft(s, fft, norm, gainsOf(c, true)));
  hooks.onStage?.('accompaniment', 0.8);
  const accompaniment = stfts.map((s, c) => maskedIstft(s, fft, norm, gainsOf(c, false)));
  hooks.onStage?.('done', 1);
  return { vocals, accompaniment };
}
