// Exact 16-bit storage of float audio: most stems are 16-bit WAV, decoded as value / 32768.
import type { DspKernels } from './kernels';
import { PCM16_STEP } from '../shared/session';

const SCALE = 32768;

/**
 * The channel as 16-bit integers when every sample is exactly k / 32768 with k in −32768 … 32767
 * (16- and 8-bit PCM decode so), else null: then only float storage keeps it exact.
 */
export function float32ToPcm16(channel: Float32Array): Int16Array<ArrayBuffer> | null {
  const n = channel.length;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const s = channel[i] * SCALE;
    const k = s | 0;
    // Fractions, out-of-range values, NaN and −0 (k would read +0 back) all fail here.
    if (k !== s || k > 32767 || k < -32768 || (k === 0 && 1 / s < 0)) return null;
    out[i] = k;
  }
  return out;
}

/** Every channel as 16-bit integers when all are exact (see float32ToPcm16), else null. */
export function exactPcm16(channels: Float32Array[]): Int16Array<ArrayBuffer>[] | null {
  const out: Int16Array<ArrayBuffer>[] = [];
  for (const channel of channels) {
    const pcm = float32ToPcm16(channel);
    if (!pcm) return null;
    out.push(pcm);
  }
  return channels.length > 0 ? out : null;
}

/** Back to floats, bit-identical to what float32ToPcm16 was given. */
export function pcm16ToFloat32(pcm: Int16Array): Float32Array<ArrayBuffer> {
  const n = pcm.length;
  const out = new Float32Array(n);
  // 1/32768 is a power of two, so the product equals the decoder's division exactly.
  for (let i = 0; i < n; i++) out[i] = pcm[i] * PCM16_STEP;
  return out;
}

/**
 * One piece of interleaved 16-bit PCM (1 or 2 channels, `pcm.length / planar.length` frames) split into the planar
 * channels from frame `at`: an imported 16-bit WAV is read piece by piece into them. The SIMD kernels split stereo
 * where given.
 */
export function splitPcm16(pcm: Int16Array, planar: Int16Array[], at: number, kernels?: DspKernels): void {
  const stereo = planar.length === 2;
  if (!stereo && planar.length !== 1) throw new RangeError(`splitPcm16 reads 1 or 2 channels, not ${planar.length}`);
  if (!stereo) {
    planar[0].set(pcm, at);
    return;
  }
  const n = pcm.length;
  const frames = n >> 1;
  if (kernels) {
    const [src, evenInts, oddInts] = kernels.layout([n * 2, frames * 2, frames * 2]);
    const k = kernels.exports;
    new Int16Array(k.memory.buffer, src, n).set(pcm);
    // A JavaScript loop over the integers costs more than the copies in and out of the kernels' memory.
    k.deinterleave16(src, n, evenInts, oddInts);
    planar[0].set(new Int16Array(k.memory.buffer, evenInts, frames), at);
    planar[1].set(new Int16Array(k.memory.buffer, oddInts, frames), at);
    return;
  }
  const left = planar[0].subarray(at, at + frames);
  const right = planar[1].subarray(at, at + frames);
  if (pcm.byteOffset % 4 === 0 && LITTLE_ENDIAN) {
    // A stereo frame is one 32-bit word: left in its low half, right in its high half (the stores keep 16 bits).
    const words = new Uint32Array(pcm.buffer, pcm.byteOffset, frames);
    for (let i = 0; i < frames; i++) {
      const w = words[i];
      left[i] = w;
      right[i] = w >>> 16;
    }
  } else {
    for (let i = 0, j = 0; i < frames; i++, j += 2) {
      left[i] = pcm[j];
      right[i] = pcm[j + 1];
    }
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Interleaved 16-bit PCM: what an MP3 encoder reads, at half the bytes of float. */
export interface InterleavedPcm16 {
  samples: Int16Array<ArrayBuffer>;
  channelCount: number;
}

/** Copies of frames [from, to) of each channel, each with its own buffer: what is transferred to an encoder worker. */
export function planarRange(channels: Float32Array[], from: number, to: number): Float32Array<ArrayBuffer>[] {
  return channels.map((c) => c.slice(from, to));
}

/**
 * Frames [from, to) of planar float channels as interleaved 16-bit PCM, rounded to the nearest step and clamped to
 * the 16-bit range (NaN becomes 0). No dither: this feeds a lossy encoder, whose own noise is ~70 dB above 16-bit rounding.
 */
export function interleavePcm16(channels: Float32Array[], from = 0, to = channels[0]?.length ?? 0): InterleavedPcm16 {
  const channelCount = channels.length;
  const frames = Math.max(0, to - from);
  const samples = new Int16Array(frames * channelCount);
  for (let ch = 0; ch < channelCount; ch++) {
    const input = channels[ch];
    for (let i = 0, j = ch; i < frames; i++, j += channelCount) samples[j] = toPcm16(input[from + i]);
  }
  return { samples, channelCount };
}

/**
 * Math.round(x · 32768) clamped to the 16-bit range, NaN to 0, in integer arithmetic (4–5× faster than Math.round).
 * For a float32 x the sum below is exact in float64, so truncating it equals rounding half up.
 */
function toPcm16(x: number): number {
  const v = x * SCALE + 32768.5;
  if (v >= 65535) return 32767;
  // NaN fails both comparisons.
  return v >= 0 ? (v | 0) - 32768 : v !== v ? 0 : -32768;
}
