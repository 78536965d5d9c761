// One analysis chunk: decode its range to 16 kHz mono, take the frame features, score voice activity.
// The decoder is passed in (ffmpeg.wasm in the worker, native ffmpeg in tests), so this runs anywhere.
import { decimateByTwo } from '../dsp/halfband';
import { CHUNK_QUANTUM_S, ANALYSIS_RATE, frameFeatures, type FeatureTransforms } from './features';
import type { ChunkAnalysis } from './episode';
import { sliceFor, type EpisodeSource, type SourceSlice } from './source';
import { speechProbability, type VadModel } from './vad';

/** Decodes a slice of the episode to `channels` planar channels at `rate`, from the slice's first byte. */
export type SliceDecoder = (slice: SourceSlice, rate: number, channels: 1 | 2) => Promise<{ channels: Float32Array[]; warnings: string[]; decoder?: DecoderName }>;

/** Which decoder read a slice: the page's decodeAudioData or ffmpeg.wasm (native ffmpeg in Node tests). */
export type DecoderName = 'page' | 'ffmpeg';

export interface ChunkSpec {
  index: number;
  startS: number;
  endS: number;
}

/** Chunks of about `chunkS`, starting on CHUNK_QUANTUM_S boundaries so every frame grid continues across them. */
export function planChunks(durationS: number, chunkS: number): ChunkSpec[] {
  const count = Math.max(1, Math.round(durationS / chunkS));
  const q = CHUNK_QUANTUM_S;
  const chunks: ChunkSpec[] = [];
  for (let i = 0; i < count; i++) {
    const startS = Math.round((i * durationS) / count / q) * q;
    const endS = i === count - 1 ? durationS : Math.round(((i + 1) * durationS) / count / q) * q;
    if (endS > startS) chunks.push({ index: chunks.length, startS, endS });
  }
  return chunks;
}

/**
 * Decodes exactly [startS, endS) at `rate` (dropping the slice's pre-roll, padding a short decode with silence),
 * as planar channels of round((endS − startS)·rate) samples.
 */
export async function decodeRange(decode: SliceDecoder, source: EpisodeSource, startS: number, endS: number, rate: number, channels: 1 | 2): Promise<{ channels: Float32Array[]; warnings: string[]; decoder: DecoderName }> {
  const slice = sliceFor(source, startS, endS);
  const out = await decode(slice, rate, channels);
  const drop = Math.round((slice.dropSamples * rate) / source.sampleRate);
  const keep = Math.max(0, Math.round((Math.min(endS, source.durationS) - Math.max(0, startS)) * rate));
  return {
    // A view when the decode covers the range (no copy of a long chunk); padded with silence when it came up short.
    channels: out.channels.map((c) => {
      if (drop + keep <= c.length) return c.subarray(drop, drop + keep);
      const x = new Float32Array(keep);
      x.set(c.subarray(Math.min(drop, c.length), Math.min(c.length, drop + keep)));
      return x;
    }),
    warnings: out.warnings,
    decoder: out.decoder ?? 'ffmpeg',
  };
}

export async function analyseChunk(decode: SliceDecoder, source: EpisodeSource, chunk: ChunkSpec, model: VadModel, transforms: FeatureTransforms = {}): Promise<ChunkAnalysis> {
  const t0 = performance.now();
  const { channels, warnings, decoder } = await decodeRange(decode, source, chunk.startS, chunk.endS, ANALYSIS_RATE, 1);
  const t1 = performance.now();
  const x16 = channels[0];
  const x8 = decimateByTwo(x16);
  const features = frameFeatures(x16, x8, transforms);
  const t2 = performance.now();
  const vad = await speechProbability(model, x8, features.levelDb);
  const t3 = performance.now();
  return {
    seconds: { decode: (t1 - t0) / 1000, features: (t2 - t1) / 1000, vad: (t3 - t2) / 1000 },
    decoder,
    index: chunk.index,
    startS: chunk.startS,
    durationS: chunk.endS - chunk.startS,
    ...features,
    speechProb: vad.prob,
    vad: { scored: vad.scored, modelFrames: vad.modelFrames, activeFrames: vad.activeFrames },
    warnings,
  };
}
