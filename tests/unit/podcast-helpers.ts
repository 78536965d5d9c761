// Shared by the podcast unit tests: native ffmpeg stands in for ffmpeg.wasm as the slice decoder, and the
// silero model is read from models/silero-vad/, checked against its registry entry, through the app's own ORT seam.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { openSession, type ModelSession } from '../../src/ml/ort';
import { nodeModelMeta, readModelFile } from '../../models/registry-node';
import { SILERO_VAD_ID } from '../../models/silero-vad/runner';
import { analyseChunk, planChunks, type SliceDecoder } from '../../src/features/podcast/analyse';
import { describeEpisode, type ByteReader, type DescribedEpisode } from '../../src/features/podcast/describe';
import { assembleEpisode, type EpisodeAnalysis } from '../../src/features/podcast/episode';
import { segmentEpisode, type EpisodeStructure } from '../../src/features/podcast/segments';

export function fileReader(path: string): ByteReader {
  const bytes = readFileSync(path);
  return { size: bytes.length, read: async (a, b) => new Uint8Array(bytes.subarray(a, b)) };
}

/** ffprobe, as the app's probe would answer. */
export async function nativeProbe(path: string) {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name,channels,sample_rate:format=duration', '-of', 'json', path], { encoding: 'utf8' });
  const j = JSON.parse(out) as { streams?: { codec_type: string; codec_name: string; channels: number; sample_rate: string }[]; format?: { duration?: string } };
  const a = j.streams?.find((s) => s.codec_type === 'audio');
  if (!a) throw new Error('not a supported audio format');
  return { durationS: Number(j.format?.duration) || null, sampleRate: Number(a.sample_rate), channels: a.channels, codec: a.codec_name };
}

/** Decodes slices of a file with native ffmpeg, exactly as the worker hands them to ffmpeg.wasm. */
export function nativeSliceDecoder(path: string, kind: 'mp3' | 'pcm' | 'ffmpeg'): SliceDecoder {
  const bytes = readFileSync(path);
  return async (slice, rate, channels) => {
    const fromFile = kind === 'ffmpeg';
    const args = ['-hide_banner', '-loglevel', 'error', ...slice.inputArgs, '-i', fromFile ? path : 'pipe:0', '-map', '0:a:0', '-ac', String(channels), '-ar', String(rate), '-f', 'f32le', 'pipe:1'];
    const out = execFileSync('ffmpeg', args, { input: fromFile ? undefined : bytes.subarray(slice.byteStart, slice.byteEnd), maxBuffer: 1 << 30 });
    const all = new Float32Array(new Uint8Array(out).buffer);
    const frames = all.length / channels;
    const planar = Array.from({ length: channels }, (_, c) => {
      const x = new Float32Array(frames);
      for (let i = 0; i < frames; i++) x[i] = all[i * channels + c];
      return x;
    });
    return { channels: planar, warnings: [] };
  };
}

let session: Promise<ModelSession> | undefined;
export function vadModel(): Promise<ModelSession> {
  session ??= openSession(`${SILERO_VAD_ID}:disk`, async () => readModelFile(nodeModelMeta(SILERO_VAD_ID, 'vad')));
  return session;
}

export interface AnalysedFile extends DescribedEpisode {
  analysis: EpisodeAnalysis;
  structure: EpisodeStructure;
}

/** The whole analysis as the app runs it, in chunks of `chunkS` (joined in order), with native decoding. */
export async function analyseFile(path: string, name: string, chunkS = 60): Promise<AnalysedFile> {
  const described = await describeEpisode(fileReader(path), name, () => nativeProbe(path));
  const { source } = described;
  const decode = nativeSliceDecoder(path, source.kind);
  const model = await vadModel();
  const chunks = [];
  for (const c of planChunks(source.durationS, chunkS)) chunks.push(await analyseChunk(decode, source, c, model));
  const analysis = assembleEpisode(chunks, source.durationS);
  return { ...described, analysis, structure: segmentEpisode(analysis) };
}

/** Mono 44.1 kHz samples of a WAV written by the fixture generator (16-bit, channel 0). */
export function readFixtureWav(path: string): Float32Array {
  const b = readFileSync(path);
  const channels = b.readUInt16LE(22);
  const n = (b.length - 44) / 2 / channels;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = b.readInt16LE(44 + 2 * channels * i) / 32768;
  return x;
}

/** RMS level (dBFS) of x over [t − halfS, t + halfS). */
export function levelAt(x: Float32Array, rate: number, t: number, halfS = 0.01): number {
  const a = Math.max(0, Math.round((t - halfS) * rate));
  const b = Math.min(x.length, Math.round((t + halfS) * rate));
  let s = 0;
  for (let i = a; i < b; i++) s += x[i] * x[i];
  return 10 * Math.log10(s / Math.max(1, b - a) + 1e-12);
}
