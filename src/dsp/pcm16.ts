// Exact 16-bit storage of float audio: most stems are 16-bit WAV, decoded as value / 32768.

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
  const step = 1 / SCALE;
  for (let i = 0; i < n; i++) out[i] = pcm[i] * step;
  return out;
}

/** Interleaved 16-bit PCM: what an MP3 encoder reads, at half the bytes of float. */
export interface InterleavedPcm16 {
  samples: Int16Array<ArrayBuffer>;
  channelCount: number;
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
    for (let i = 0, j = ch; i < frames; i++, j += channelCount) {
      const s = Math.round(input[from + i] * SCALE);
      // Comparisons are false for NaN, which the Int16Array store turns into 0.
      samples[j] = s > 32767 ? 32767 : s < -32768 ? -32768 : s;
    }
  }
  return { samples, channelCount };
}
