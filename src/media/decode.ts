// Audio import: sniff the container, read WAV in TypeScript, hand everything else to ffmpeg.wasm.
//
// Why this decoder (measured in headless Chromium 156 on the 2-core dev machine, 3-minute 44.1 kHz stereo track):
// - decodeAudioData cannot run here: AudioContext/OfflineAudioContext are undefined in a DedicatedWorker (checked:
//   `typeof OfflineAudioContext` is "undefined" in a module worker), so it would tie decoding to the main thread.
// - WebCodecs AudioDecoder decodes codec frames only: it would need a demuxer per container (MP4, Ogg, FLAC, MP3, WAV).
// - ffmpeg.wasm (single-thread core) in this worker: core load 0.7 s once, MP3 1.75–1.87 s, WAV 0.73–0.76 s; against
//   decodeAudioData on the main thread: MP3 0.51–0.58 s, WAV 0.35–0.46 s. ffmpeg is ~3× slower on MP3 but off the UI
//   thread, and reads every container (FLAC, Ogg/Opus, M4A, ADPCM WAV, 5.1) with one code path and the same output.
// - WAV is read by src/dsp/wav.ts: 0.12–0.32 s for the 44.1 kHz WAV, no 32 MB core loaded. A 48 kHz 24-bit WAV to
//   44.1 kHz: TS parse 0.5 s + resample 1.9 s, against ffmpeg 1.2–1.8 s plus its 0.7 s load: a wash, so WAV never
//   needs ffmpeg and the resampler stays testable in Node.
import { isPackedPcm16, parseWav, readWavLayout, UnsupportedWavEncodingError, WavFormatError, type WavAudio, type WavLayout } from '../dsp/wav';
import { resample } from '../dsp/resample';
import { computePeaks, Pcm16Peaks, sanitizeSamples } from '../dsp/peaks';
import { PEAKS_PER_SECOND } from '../shared/session';
import { exactPcm16, splitPcm16 } from '../dsp/pcm16';
import type { DspKernels } from '../dsp/kernels';
import { CancelledError, DecodeError } from '../shared/errors';
import type { AudioFileSource, DecodedAudio } from '../shared/decoded-audio';
import { wholePercents, type ProgressCallback } from '../shared/jobs';
import { decodeToPcm, FfmpegDecodeError } from './ffmpeg';

export type Container =
  | 'wav'
  | 'rf64'
  | 'aiff'
  | 'flac'
  | 'mp3'
  | 'adts-aac'
  | 'ogg'
  | 'mp4'
  | 'matroska'
  | 'caf'
  | 'midi'
  | 'image'
  | 'unknown';

function ascii(bytes: Uint8Array, at: number, length: number): string {
  let s = '';
  for (let i = at; i < at + length && i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/** Identifies the container from its first bytes; file extensions lie. */
export function sniffContainer(head: Uint8Array): Container {
  const tag4 = ascii(head, 0, 4);
  if (tag4 === 'RIFF' && ascii(head, 8, 4) === 'WAVE') return 'wav';
  if (tag4 === 'RF64' || tag4 === 'BW64') return 'rf64';
  if (tag4 === 'FORM' && /^AIF[FC]$/.test(ascii(head, 8, 4))) return 'aiff';
  if (tag4 === 'fLaC') return 'flac';
  if (tag4 === 'OggS') return 'ogg';
  if (tag4 === 'caff') return 'caf';
  if (tag4 === 'MThd') return 'midi';
  if (ascii(head, 4, 4) === 'ftyp') return 'mp4';
  if (head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) return 'matroska';
  if (ascii(head, 0, 3) === 'ID3') return 'mp3';
  if (head[0] === 0xff && (head[1] & 0xe0) === 0xe0) {
    // Layer bits 00 mean ADTS AAC, otherwise an MPEG audio frame.
    return (head[1] & 0x06) === 0 ? 'adts-aac' : 'mp3';
  }
  if (head[0] === 0x89 && ascii(head, 1, 3) === 'PNG') return 'image';
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'image';
  if (ascii(head, 0, 4) === 'GIF8') return 'image';
  return 'unknown';
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError();
}

function toStereoOrMono(wav: WavAudio): WavAudio | null {
  // Wider WAVs go to ffmpeg, whose downmix honours the channel mask (centre, LFE, surrounds).
  return wav.channels.length <= 2 ? wav : null;
}

/** A decode to floats: every file but a 16-bit WAV at the session rate. */
type FloatDecoded = DecodedAudio & { channels: Float32Array[] };
/** A decode with, for 16-bit PCM at the session rate, the file's own integers (channels = pcm16 / 32768). */
type DecodedWithPcm16 = FloatDecoded & { pcm16?: Int16Array<ArrayBuffer>[] };

async function decodeWav(bytes: Uint8Array, fileName: string, targetRate: number, report: (f: number, stage: string) => void, signal?: AbortSignal): Promise<DecodedWithPcm16 | null> {
  let wav: WavAudio;
  try {
    wav = parseWav(bytes);
  } catch (e) {
    if (e instanceof UnsupportedWavEncodingError) return null;
    if (e instanceof WavFormatError) throw new DecodeError(fileName, e.reason);
    throw e;
  }
  if (!toStereoOrMono(wav)) return null;
  report(0.4, 'resampling');
  throwIfAborted(signal);
  const channels = resample(wav.channels, wav.sampleRate, targetRate);
  const unchanged = channels.every((c, i) => c === wav.channels[i]);
  return { channels, sampleRate: targetRate, sourceRate: wav.sampleRate, decoder: 'wav', warnings: [...wav.warnings], pcm16: unchanged ? wav.pcm16 : undefined };
}

async function decodeWithFfmpeg(bytes: Uint8Array, fileName: string, targetRate: number, report: (f: number, stage: string) => void, signal?: AbortSignal): Promise<FloatDecoded> {
  report(0.05, 'loading decoder');
  try {
    const pcm = await decodeToPcm(bytes, fileName, targetRate, (f) => report(0.1 + 0.85 * f, 'decoding'), signal);
    return { channels: pcm.channels, sampleRate: targetRate, sourceRate: pcm.source.sampleRate, decoder: 'ffmpeg', warnings: pcm.warnings };
  } catch (e) {
    if (e instanceof FfmpegDecodeError) {
      // The raw log helps us, never the user.
      console.warn(`ffmpeg could not decode ${fileName}:`, e.log.slice(-8).join('\n'));
      throw new DecodeError(fileName, e.reason);
    }
    throw e;
  }
}

const REFUSED: Partial<Record<Container, string>> = {
  midi: 'this is a MIDI file (notes, not audio): render it to WAV in your DAW first',
  image: 'not a supported audio format (this is an image)',
};

/** Bytes read first: the chunks before the samples of nearly every WAV (a longer header is read with the whole file). */
const HEAD_BYTES = 64 * 1024;
/** Frames per piece of a WAV read piece by piece: 1 MB of stereo 16-bit, so each piece stays in cache while it is split. */
const PIECE_FRAMES = 1 << 18;
/** Frames between progress reports of a WAV read piece by piece. */
const REPORT_FRAMES = 1 << 21;

/**
 * Reads a byte stream in pieces of `pieceBytes` (the last may be shorter), all in one reused buffer (through a BYOB
 * reader where the stream offers one), so reading a file allocates nothing per piece. `take` must not keep the view.
 */
export async function readPieces(stream: ReadableStream<Uint8Array>, pieceBytes: number, take: (piece: Uint8Array) => void): Promise<void> {
  let buffer = new ArrayBuffer(pieceBytes);
  let filled = 0;
  const byob = byobReader(stream);
  if (byob) {
    for (;;) {
      const { done, value } = await byob.read(new Uint8Array(buffer, filled, pieceBytes - filled));
      if (value) {
        buffer = value.buffer;
        filled += value.byteLength;
      }
      if (filled > 0 && (done || filled === pieceBytes)) {
        take(new Uint8Array(buffer, 0, filled));
        filled = 0;
      }
      if (done) return;
    }
  }
  const reader = stream.getReader();
  const piece = new Uint8Array(buffer);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      if (filled > 0) take(piece.subarray(0, filled));
      return;
    }
    for (let from = 0; from < value.length; ) {
      const n = Math.min(value.length - from, pieceBytes - filled);
      piece.set(value.subarray(from, from + n), filled);
      filled += n;
      from += n;
      if (filled === pieceBytes) {
        take(piece);
        filled = 0;
      }
    }
  }
}

function byobReader(stream: ReadableStream<Uint8Array>): ReadableStreamBYOBReader | null {
  try {
    return stream.getReader({ mode: 'byob' });
  } catch {
    // Not a byte stream: the default reader's chunks are copied into the buffer instead.
    return null;
  }
}

/**
 * A 16-bit PCM WAV (1–2 channels) at the session rate, nearly every stem, read piece by piece straight into planar
 * 16-bit channels: the track as the engine plays it and as it is stored. No float copy is made (half the memory, and
 * fresh memory is slow to touch); the whole file and a second pass never exist. Null for any other WAV, read whole.
 */
async function streamPcm16Wav(file: Blob, head: Uint8Array, fileName: string, targetRate: number, report: (f: number, stage: string) => void, kernels?: DspKernels): Promise<DecodedAudio | null> {
  let layout: WavLayout | null;
  try {
    layout = readWavLayout(head, file.size);
  } catch (e) {
    if (e instanceof WavFormatError && !(e instanceof UnsupportedWavEncodingError)) throw new DecodeError(fileName, e.reason);
    return null;
  }
  if (!layout || !isPackedPcm16(layout) || layout.format.sampleRate !== targetRate || layout.format.channelCount > 2) return null;
  const { frames, frameBytes, dataStart } = layout;
  const channels = Array.from({ length: layout.format.channelCount }, () => new Int16Array(frames));
  // Scanned piece by piece while each is at hand, rather than over the whole channels afterwards.
  const peaks = new Pcm16Peaks(frames, channels.length, targetRate, PEAKS_PER_SECOND, kernels);
  let at = 0;
  let reported = 0;
  await readPieces(file.slice(dataStart, dataStart + frames * frameBytes).stream(), PIECE_FRAMES * frameBytes, (piece) => {
    const n = Math.min(Math.floor(piece.byteLength / frameBytes), frames - at);
    const pcm = new Int16Array(piece.buffer, piece.byteOffset, n * channels.length);
    splitPcm16(pcm, channels, at, kernels);
    peaks.add(pcm, at);
    at += n;
    // About every 2 million frames: each report is a message and a redraw of the jobs list on the main thread.
    if (at - reported >= REPORT_FRAMES || at === frames) {
      reported = at;
      report((0.9 * at) / frames, 'reading');
    }
  });
  if (at < frames) throw new DecodeError(fileName, 'the file could not be read to its end (was it changed or moved?)');
  return {
    channels,
    sampleRate: targetRate,
    sourceRate: targetRate,
    decoder: 'wav',
    warnings: [...layout.warnings],
    encoded: { encoding: 'i16', channels: channels.map((c) => new Blob([c])) },
    peaks: peaks.finish(),
  };
}

/** Any other file, read whole: WAV in TypeScript (resampled if need be), everything else by ffmpeg. */
async function decodeWhole(bytes: Uint8Array, container: Container, fileName: string, targetRate: number, report: (f: number, stage: string) => void, signal?: AbortSignal): Promise<DecodedAudio> {
  const { pcm16: filePcm16, ...decoded }: DecodedWithPcm16 =
    (container === 'wav' ? await decodeWav(bytes, fileName, targetRate, report, signal) : null) ?? (await decodeWithFfmpeg(bytes, fileName, targetRate, report, signal));
  throwIfAborted(signal);

  // Integer samples cannot be NaN or infinite.
  const replaced = filePcm16 ? 0 : decoded.channels.reduce((n, c) => n + sanitizeSamples(c), 0);
  if (replaced > 0) decoded.warnings.push(`${replaced} NaN/Infinity sample${replaced === 1 ? '' : 's'} replaced with silence`);
  // Made here, in the decoder's worker, so the main thread neither scans nor copies the audio.
  const pcm16 = filePcm16 ?? exactPcm16(decoded.channels);
  decoded.encoded = { encoding: pcm16 ? 'i16' : 'f32', channels: (pcm16 ?? decoded.channels).map((c) => new Blob([c as ArrayBufferView<ArrayBuffer>])) };
  return decoded;
}

export interface DecodeOptions {
  signal?: AbortSignal;
  /** The WebAssembly SIMD kernels, for splitting 16-bit samples and their peaks; TypeScript does it without them. */
  kernels?: DspKernels;
}

/** Decodes an imported file to 1–2 planar channels at targetRate; failures are DecodeErrors naming the file. */
export async function decodeAudioFile(file: AudioFileSource, fileName: string, targetRate: number, onProgress: ProgressCallback, opts: DecodeOptions = {}): Promise<DecodedAudio> {
  const { signal, kernels } = opts;
  if (!(Number.isInteger(targetRate) && targetRate >= 8000 && targetRate <= 384000)) {
    throw new DecodeError(fileName, `cannot decode to a sample rate of ${targetRate} Hz`);
  }
  const progress = wholePercents(onProgress);
  const report = (fraction: number, stage: string) => progress({ fraction, stage });
  if (file.size === 0) throw new DecodeError(fileName, 'the file is empty (0 bytes)');
  report(0, 'reading');
  // A Blob (a File) is read in pieces where it can be; anything else whole.
  const blob = typeof Blob !== 'undefined' && file instanceof Blob ? file : null;
  const head = new Uint8Array(await (blob && blob.size > HEAD_BYTES ? blob.slice(0, HEAD_BYTES) : file).arrayBuffer());
  throwIfAborted(signal);

  const container = sniffContainer(head.subarray(0, 16));
  const refusal = REFUSED[container];
  if (refusal) throw new DecodeError(fileName, refusal);

  const streamed = blob && container === 'wav' ? await streamPcm16Wav(blob, head, fileName, targetRate, report, kernels) : null;
  const decoded = streamed ?? (await decodeWhole(head.length === file.size ? head : new Uint8Array(await file.arrayBuffer()), container, fileName, targetRate, report, signal));
  throwIfAborted(signal);
  decoded.peaks ??= computePeaks(decoded.channels, decoded.sampleRate, PEAKS_PER_SECOND);
  report(1, 'done');
  return decoded;
}
