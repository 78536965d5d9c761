// One analysis chunk: decode its range to 16 kHz mono, take the frame features, score voice activity.
// The decoder is passed in (ffmpeg.wasm in the worker, native ffmpeg in tests), so this runs anywhere.
import { decimateByTwo } from '../../dsp/halfband';
import { CHUNK_QUANTUM_S, ANALYSIS_RATE, LEVEL_HOP_S, frameFeatures, type FeatureTransforms } from './features';
import type { ChunkAnalysis } from './episode';
import { sliceFor, type EpisodeSource, type SourceSlice } from './source';
import { speechProbability, type VadModel } from '../../../models/silero-vad/runner';

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

/** A chunk decoded to 16 kHz mono, and how long that took (seconds of wall time). */
export interface DecodedChunk {
  chunk: ChunkSpec;
  x16: Float32Array;
  warnings: string[];
  decoder: DecoderName;
  decodeS: number;
}

export async function decodeChunk(decode: SliceDecoder, source: EpisodeSource, chunk: ChunkSpec): Promise<DecodedChunk> {
  const t0 = performance.now();
  const { channels, warnings, decoder } = await decodeRange(decode, source, chunk.startS, chunk.endS, ANALYSIS_RATE, 1);
  return { chunk, x16: channels[0], warnings, decoder, decodeS: (performance.now() - t0) / 1000 };
}

/** Frame features and voice activity of a decoded chunk. */
export async function analyseDecoded(decoded: DecodedChunk, model: VadModel, transforms: FeatureTransforms = {}): Promise<ChunkAnalysis> {
  const { chunk, x16 } = decoded;
  const t1 = performance.now();
  const x8 = decimateByTwo(x16);
  const features = frameFeatures(x16, x8, transforms);
  const t2 = performance.now();
  const vad = await speechProbability(model, x8, features.levelDb, { levelHopS: LEVEL_HOP_S });
  const t3 = performance.now();
  return {
    seconds: { decode: decoded.decodeS, features: (t2 - t1) / 1000, vad: (t3 - t2) / 1000 },
    decoder: decoded.decoder,
    index: chunk.index,
    startS: chunk.startS,
    durationS: chunk.endS - chunk.startS,
    ...features,
    speechProb: vad.prob,
    vad: { scored: vad.scored, modelFrames: vad.modelFrames, activeFrames: vad.activeFrames },
    warnings: decoded.warnings,
  };
}

export async function analyseChunk(decode: SliceDecoder, source: EpisodeSource, chunk: ChunkSpec, model: VadModel, transforms: FeatureTransforms = {}): Promise<ChunkAnalysis> {
  return analyseDecoded(await decodeChunk(decode, source, chunk), model, transforms);
}

/** Hands out an episode's chunks in order to whichever worker asks next; null once all are taken. */
export type ChunkClaim = () => Promise<ChunkSpec | null>;

/** A queue over `chunks` for several workers: a worker that finishes early takes the next chunk, so none idles at the end. */
export function chunkQueue(chunks: readonly ChunkSpec[], signal?: AbortSignal): () => ChunkSpec | null {
  let next = 0;
  return () => (signal?.aborted || next >= chunks.length ? null : chunks[next++]);
}

/**
 * One worker's share of the analysis: it claims chunks until none are left, decoding each and then analysing it.
 * The first decode starts before `ready` (the VAD model and the FFTs loading) resolves, so neither waits on the other;
 * after that, the next chunk is claimed and its decode started (on the page's decoder thread) as this worker begins
 * analysing the current one, so the decoder and the analysis overlap instead of taking turns.
 */
export async function analyseClaimed(claim: ChunkClaim, decode: (chunk: ChunkSpec) => Promise<DecodedChunk>, ready: Promise<{ model: VadModel; transforms: FeatureTransforms }>, onChunk?: (a: ChunkAnalysis) => void): Promise<ChunkAnalysis[]> {
  const out: ChunkAnalysis[] = [];
  const first = await claim();
  if (!first) return out;
  // Both started now; a failed model load is reported after the decode settles, so no rejection goes unhandled.
  const firstDecode = decode(first);
  const [{ model, transforms }, decodedFirst] = await Promise.all([ready, firstDecode]);
  const claimAndDecode = async (): Promise<DecodedChunk | null> => {
    const chunk = await claim();
    return chunk ? decode(chunk) : null;
  };
  let decoded: DecodedChunk | null = decodedFirst;
  while (decoded) {
    const next = claimAndDecode();
    // Awaited below; this only keeps a failure from counting as unhandled while the current chunk is analysed.
    next.catch(() => undefined);
    const a = await analyseDecoded(decoded, model, transforms);
    out.push(a);
    onChunk?.(a);
    decoded = await next;
  }
  return out;
}
