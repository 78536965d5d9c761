// The browser's own MP3 decoder, lent to the podcast analysis workers.
//
// Why: decoding is most of a long episode's analysis. Measured in headless Chromium 156 on the 2-core machine,
// a 573 s slice of a 128 kb/s MP3 decodes to 16 kHz in 1.7 s with decodeAudioData (native FFmpeg and a native
// resampler), against ~4.8 s in ffmpeg.wasm; and its samples line up with ffmpeg's to the sample (same frames,
// same decoder delay; correlation 0.9998, the rest is the resampler). decodeAudioData exists only on a page,
// not in a worker, so the page decodes the byte slices a worker asks for and transfers the mono result back.
// The decode itself runs on the browser's decoder thread: the UI stays responsive.
import { transfer } from 'comlink';
import type { PageSliceDecode } from './contract';

/** Whether this page can decode with Web Audio (it cannot in Node, or in a worker). */
export function canDecodeOnPage(): boolean {
  return typeof OfflineAudioContext === 'function';
}

/**
 * A decoder for one file; each call decodes a fresh copy of its slice (decodeAudioData detaches its input).
 * At most `concurrency` slices decode at once: each holds its slice at the file's rate while it decodes (a 5-minute
 * stereo slice is 0.1 GB at 44.1 kHz), and the analysis workers ask for their next slice ahead of time.
 */
export function pageSliceDecoder(file: Blob, concurrency = 2): PageSliceDecode {
  let running = 0;
  const waiting: (() => void)[] = [];
  const acquire = async () => {
    while (running >= concurrency) await new Promise<void>((r) => waiting.push(r));
    running++;
  };
  const release = () => {
    running--;
    waiting.shift()?.();
  };
  return async (byteStart, byteEnd, rate, channels) => {
    await acquire();
    let audio: AudioBuffer;
    try {
      const bytes = await file.slice(byteStart, byteEnd).arrayBuffer();
      audio = await new OfflineAudioContext(1, 1, rate).decodeAudioData(bytes);
    } finally {
      release();
    }
    const n = audio.numberOfChannels;
    let out: Float32Array[];
    if (channels === 2) {
      // ffmpeg's `-ac 2`: a mono source on both sides at its own level; stereo as it is.
      const left = audio.getChannelData(0).slice();
      out = [left, n > 1 ? audio.getChannelData(1).slice() : left.slice()];
    } else {
      out = [downmixToMono(audio)];
    }
    return transfer(out, out.map((c) => c.buffer));
  };
}

/**
 * ffmpeg's `-ac 1` downmix (what the analysis was tuned on): each of two channels weighed by √½ (measured 1.416×
 * the plain average on the same stereo slice), more channels averaged. One native copy and one fused pass: the
 * per-channel accumulate loops it replaces took 0.3–0.7 s of the page's main thread per 5-minute chunk, 7–10× this.
 */
export function downmixToMono(audio: Pick<AudioBuffer, 'numberOfChannels' | 'length' | 'getChannelData' | 'copyFromChannel'>): Float32Array {
  const n = audio.numberOfChannels;
  const mono = new Float32Array(audio.length);
  audio.copyFromChannel(mono, 0);
  if (n === 2) {
    const right = audio.getChannelData(1);
    const w = Math.SQRT1_2;
    // Rounded to float32 after the sum, as the accumulating Float32Array did: the same samples to the bit.
    for (let i = 0; i < mono.length; i++) mono[i] = Math.fround(mono[i] + right[i]) * w;
  } else if (n > 2) {
    for (let c = 1; c < n; c++) {
      const x = audio.getChannelData(c);
      for (let i = 0; i < mono.length; i++) mono[i] += x[i];
    }
    const w = 1 / n;
    for (let i = 0; i < mono.length; i++) mono[i] *= w;
  }
  return mono;
}
