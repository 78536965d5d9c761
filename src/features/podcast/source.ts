// How an episode file is read in pieces: which bytes decode which time range, for each kind of file.
//
// - MP3 (most podcasts): an exact frame index (mp3-index.ts); a range is a byte slice of whole frames.
// - PCM WAV: sample frames sit at fixed byte offsets, so a range is a byte slice handed to ffmpeg as raw PCM.
// - Everything else (M4A/AAC, Ogg/Opus, FLAC, odd WAVs): ffmpeg seeks itself (`-ss`), which these
//   containers support without reading from the start (sample tables, seek tables, granule bisection).
import { mp3Duration, mp3SliceFor, type Mp3Index } from './mp3-index';

export type RawPcmFormat = 'u8' | 's16le' | 's24le' | 's32le' | 'f32le' | 'f64le';

export type EpisodeSource =
  | { kind: 'mp3'; index: Mp3Index; durationS: number; sampleRate: number; channels: number }
  | { kind: 'pcm'; dataOffset: number; dataBytes: number; format: RawPcmFormat; blockAlign: number; durationS: number; sampleRate: number; channels: number }
  | { kind: 'ffmpeg'; codec: string; durationS: number; sampleRate: number; channels: number };

/** What ffmpeg needs to decode one time range of the episode, and how to trim its output exactly. */
export interface SourceSlice {
  /** Byte range of the file to mount (the whole file for kind 'ffmpeg'). */
  byteStart: number;
  byteEnd: number;
  /** Input options placed before -i (format of a raw slice, or -ss/-t for a seekable container). */
  inputArgs: string[];
  /** Output samples at the source rate to drop from the start, then how many to keep. */
  dropSamples: number;
  keepSamples: number;
}

function fourCC(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);
}

export interface WavLayout {
  dataOffset: number;
  dataBytes: number;
  format: RawPcmFormat;
  blockAlign: number;
  sampleRate: number;
  channels: number;
}

/**
 * Reads the layout of a plain PCM/float RIFF WAVE from its first bytes, without the samples; null for
 * anything ffmpeg should read itself (compressed WAV codecs, RF64, a header beyond `head`).
 */
export function readWavLayout(head: Uint8Array, fileSize: number): WavLayout | null {
  if (head.length < 12 || fourCC(head, 0) !== 'RIFF' || fourCC(head, 8) !== 'WAVE') return null;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let tag = 0;
  let channels = 0;
  let sampleRate = 0;
  let blockAlign = 0;
  let bits = 0;
  let at = 12;
  while (at + 8 <= head.length) {
    const id = fourCC(head, at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ' && body + 16 <= head.length) {
      tag = view.getUint16(body, true);
      channels = view.getUint16(body + 2, true);
      sampleRate = view.getUint32(body + 4, true);
      blockAlign = view.getUint16(body + 12, true);
      bits = view.getUint16(body + 14, true);
      // WAVE_FORMAT_EXTENSIBLE: the sub-format GUID starts with the plain tag.
      if (tag === 0xfffe && size >= 40 && body + 26 <= head.length) tag = view.getUint16(body + 24, true);
    } else if (id === 'data') {
      if (!channels || !sampleRate || !blockAlign) return null;
      const declared = size === 0 || size === 0xffffffff ? Infinity : size;
      const dataBytes = Math.floor(Math.min(declared, fileSize - body) / blockAlign) * blockAlign;
      const container = blockAlign / channels;
      let format: RawPcmFormat | null = null;
      if (tag === 1) format = container === 1 ? 'u8' : container === 2 ? 's16le' : container === 3 ? 's24le' : container === 4 ? 's32le' : null;
      else if (tag === 3) format = bits === 32 ? 'f32le' : bits === 64 ? 'f64le' : null;
      if (!format || !Number.isInteger(container) || dataBytes <= 0) return null;
      return { dataOffset: body, dataBytes, format, blockAlign, sampleRate, channels };
    }
    at = body + size + (size & 1);
  }
  return null;
}

export function mp3Source(index: Mp3Index): EpisodeSource {
  return { kind: 'mp3', index, durationS: mp3Duration(index), sampleRate: index.sampleRate, channels: index.channels };
}

export function pcmSource(w: WavLayout): EpisodeSource {
  return { kind: 'pcm', ...w, durationS: w.dataBytes / w.blockAlign / w.sampleRate };
}

/** The slice of the file that decodes [startS, endS) of the programme (clamped to the episode). */
export function sliceFor(source: EpisodeSource, startS: number, endS: number): SourceSlice {
  const start = Math.max(0, Math.min(startS, source.durationS));
  const end = Math.max(start, Math.min(endS, source.durationS));
  switch (source.kind) {
    case 'mp3': {
      const s = mp3SliceFor(source.index, start, end);
      return { byteStart: s.byteStart, byteEnd: s.byteEnd, inputArgs: ['-f', 'mp3'], dropSamples: s.dropSamples, keepSamples: s.keepSamples };
    }
    case 'pcm': {
      const f0 = Math.round(start * source.sampleRate);
      const f1 = Math.round(end * source.sampleRate);
      return {
        byteStart: source.dataOffset + f0 * source.blockAlign,
        byteEnd: source.dataOffset + f1 * source.blockAlign,
        inputArgs: ['-f', source.format, '-ar', String(source.sampleRate), '-ac', String(source.channels)],
        dropSamples: 0,
        keepSamples: f1 - f0,
      };
    }
    case 'ffmpeg':
      return {
        byteStart: 0,
        byteEnd: Infinity,
        inputArgs: ['-ss', start.toFixed(6), '-t', (end - start).toFixed(6)],
        dropSamples: 0,
        keepSamples: Math.round((end - start) * source.sampleRate),
      };
  }
}
