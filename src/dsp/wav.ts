// Pure RIFF/WAVE reader: WAV is the stem format most DAWs export, and reading it here spares loading 32 MB of ffmpeg.wasm.

export interface WavAudio {
  /** Planar channels, every channel the file holds (no downmix here). */
  channels: Float32Array[];
  sampleRate: number;
  /** Encoding as stored, for diagnostics: "PCM 24-bit", "float 32-bit". */
  encoding: string;
  warnings: string[];
  /** For 16-bit PCM, the same samples as the integers in the file (channels = pcm16 / 32768). */
  pcm16?: Int16Array<ArrayBuffer>[];
}

/** The bytes are not a WAV file this parser can read; `reason` is phrased for the user. */
export class WavFormatError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'WavFormatError';
  }
}

/** A well-formed WAV in an encoding this parser does not read (ADPCM, µ-law, MP3-in-WAV…): another decoder may. */
export class UnsupportedWavEncodingError extends WavFormatError {
  constructor(readonly formatTag: number) {
    super(`unsupported WAV encoding (format 0x${formatTag.toString(16).padStart(4, '0')})`);
    this.name = 'UnsupportedWavEncodingError';
  }
}

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

function fourCC(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
}

/** True when the bytes start like a RIFF/WAVE file. */
export function isWav(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && fourCC(bytes, 0) === 'RIFF' && fourCC(bytes, 8) === 'WAVE';
}

export interface WavFormat {
  formatTag: number;
  channelCount: number;
  sampleRate: number;
  blockAlign: number;
  bitsPerSample: number;
}

function readFormat(view: DataView, at: number, size: number): WavFormat {
  if (size < 16) throw new WavFormatError('the WAV format chunk is too short');
  let formatTag = view.getUint16(at, true);
  const channelCount = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bitsPerSample = view.getUint16(at + 14, true);
  if (formatTag === WAVE_FORMAT_EXTENSIBLE) {
    if (size < 40) throw new WavFormatError('the WAV extensible format chunk is too short');
    // The sub-format GUID starts with the plain format tag.
    formatTag = view.getUint16(at + 24, true);
  }
  return { formatTag, channelCount, sampleRate, blockAlign, bitsPerSample };
}

function encodingName(f: WavFormat): string {
  return `${f.formatTag === WAVE_FORMAT_IEEE_FLOAT ? 'float' : 'PCM'} ${f.bitsPerSample}-bit`;
}

/** True for the encodings sampleReader reads. */
function readable(f: WavFormat): boolean {
  const containerBits = Math.ceil(f.bitsPerSample / 8) * 8;
  if (f.formatTag === WAVE_FORMAT_IEEE_FLOAT) return f.bitsPerSample === 32 || f.bitsPerSample === 64;
  return f.formatTag === WAVE_FORMAT_PCM && [8, 16, 24, 32].includes(containerBits);
}

/** Returns a reader of one sample at a byte offset, scaled to ±1. */
function sampleReader(view: DataView, f: WavFormat): (at: number) => number {
  const { formatTag, bitsPerSample } = f;
  if (formatTag === WAVE_FORMAT_IEEE_FLOAT) {
    if (bitsPerSample === 32) return (at) => view.getFloat32(at, true);
    if (bitsPerSample === 64) return (at) => view.getFloat64(at, true);
  } else if (formatTag === WAVE_FORMAT_PCM) {
    // Sample containers are whole bytes; a 20-bit sample sits left-justified in 24 bits.
    const containerBits = Math.ceil(bitsPerSample / 8) * 8;
    if (containerBits === 8) return (at) => (view.getUint8(at) - 128) / 128;
    if (containerBits === 16) return (at) => view.getInt16(at, true) / 32768;
    if (containerBits === 24) {
      return (at) => ((view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16)) / 8388608);
    }
    if (containerBits === 32) return (at) => view.getInt32(at, true) / 2147483648;
  }
  throw new UnsupportedWavEncodingError(formatTag);
}

function seconds(frames: number, rate: number): string {
  return (frames / rate).toFixed(1);
}

/** Where a WAV file's samples lie and how they are laid out. */
export interface WavLayout {
  format: WavFormat;
  /** Byte offset of the first sample in the file. */
  dataStart: number;
  /** Whole frames present (a truncated file's partial last frame is dropped). */
  frames: number;
  frameBytes: number;
  warnings: string[];
}

/**
 * Reads the layout from the file's first bytes (`head`) given its whole size, so the samples can be read in pieces;
 * null when the head ends before the format and data chunk headers. Throws WavFormatError with a user-facing reason.
 */
export function readWavLayout(head: Uint8Array, fileBytes = head.length): WavLayout | null {
  if (fileBytes === 0) throw new WavFormatError('the file is empty (0 bytes)');
  if (!isWav(head)) throw new WavFormatError('not a WAV file');
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);

  let format: WavFormat | undefined;
  let dataStart = -1;
  let dataDeclared = 0;
  let at = 12;
  while (at + 8 <= fileBytes) {
    if (at + 8 > head.length) return null;
    const id = fourCC(head, at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (body + 16 > fileBytes) throw new WavFormatError('the WAV header is truncated');
      const present = Math.min(size, fileBytes - body);
      if (body + present > head.length) return null;
      format = readFormat(view, body, present);
    } else if (id === 'data') {
      dataStart = body;
      dataDeclared = size;
      // The data chunk is usually last; streaming writers leave its size 0 or 0xFFFFFFFF.
      if (format) break;
    }
    // Chunks are word-aligned: an odd-sized chunk is followed by one pad byte.
    at = body + size + (size & 1);
  }
  if (!format) throw new WavFormatError('the WAV file has no format chunk');
  if (dataStart < 0) throw new WavFormatError('the WAV file has no audio data chunk');
  const { channelCount, sampleRate } = format;
  if (channelCount === 0) throw new WavFormatError('the WAV file declares 0 channels');
  if (sampleRate === 0) throw new WavFormatError('the WAV file declares a sample rate of 0 Hz');
  if (!readable(format)) throw new UnsupportedWavEncodingError(format.formatTag);
  const bytesPerSample = Math.ceil(format.bitsPerSample / 8);
  const frameBytes = Math.max(format.blockAlign, bytesPerSample * channelCount);

  const warnings: string[] = [];
  const present = fileBytes - dataStart;
  const unknownLength = dataDeclared === 0 || dataDeclared === 0xffffffff;
  const dataBytes = unknownLength ? present : Math.min(dataDeclared, present);
  const frames = Math.floor(dataBytes / frameBytes);
  if (!unknownLength && dataDeclared > present) {
    const declaredFrames = Math.floor(dataDeclared / frameBytes);
    warnings.push(`file is truncated: ${seconds(frames, sampleRate)} s of ${seconds(declaredFrames, sampleRate)} s decoded`);
  }
  if (frames === 0) throw new WavFormatError('the WAV file holds no audio samples');
  return { format, dataStart, frames, frameBytes, warnings };
}

/** True for 16-bit PCM with 2-byte samples packed frame after frame: the layout the integer paths read. */
export function isPackedPcm16(layout: WavLayout): boolean {
  const f = layout.format;
  return f.formatTag === WAVE_FORMAT_PCM && f.bitsPerSample === 16 && layout.frameBytes === 2 * f.channelCount;
}

/** Parses a RIFF/WAVE file to planar float channels; throws WavFormatError with a user-facing reason. */
export function parseWav(bytes: Uint8Array): WavAudio {
  const layout = readWavLayout(bytes);
  // A whole file always reaches its chunk headers.
  if (!layout) throw new WavFormatError('the WAV header is truncated');
  const { format, dataStart, frames, frameBytes, warnings } = layout;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = sampleReader(view, format);
  const bytesPerSample = Math.ceil(format.bitsPerSample / 8);
  const channelCount = format.channelCount;
  const sampleRate = format.sampleRate;

  const channels = Array.from({ length: channelCount }, () => new Float32Array(frames));
  const pcm16 = readPcm16Fast(bytes, dataStart, frames, format, frameBytes, channels);
  if (!pcm16) {
    for (let ch = 0; ch < channelCount; ch++) {
      const out = channels[ch];
      let offset = dataStart + ch * bytesPerSample;
      for (let i = 0; i < frames; i++, offset += frameBytes) out[i] = read(offset);
    }
  }
  return { channels, sampleRate, encoding: encodingName(format), warnings, ...(pcm16 ? { pcm16 } : {}) };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * 16-bit PCM, the usual stem format, read through an Int16Array over the file instead of a DataView
 * call per sample (several times faster): the same values, plus the planar integers themselves.
 * Returns null where it does not apply.
 */
function readPcm16Fast(bytes: Uint8Array, dataStart: number, frames: number, f: WavFormat, frameBytes: number, channels: Float32Array[]): Int16Array<ArrayBuffer>[] | null {
  const channelCount = channels.length;
  const at = bytes.byteOffset + dataStart;
  if (!LITTLE_ENDIAN || f.formatTag !== WAVE_FORMAT_PCM || f.bitsPerSample !== 16 || frameBytes !== 2 * channelCount || at % 2 !== 0) return null;
  const pcm = new Int16Array(bytes.buffer, at, frames * channelCount);
  const step = 1 / 32768; // a power of two: the product equals the division by 32768
  const planar = channels.map(() => new Int16Array(frames));
  if (channelCount === 2) {
    // Stereo, nearly every stem: both channels in one pass over the interleaved data.
    const [l, r] = channels;
    const [pl, pr] = planar;
    for (let i = 0, j = 0; i < frames; i++, j += 2) {
      const a = pcm[j];
      const b = pcm[j + 1];
      pl[i] = a;
      pr[i] = b;
      l[i] = a * step;
      r[i] = b * step;
    }
    return planar;
  }
  for (let ch = 0; ch < channelCount; ch++) {
    const out = channels[ch];
    const p = planar[ch];
    for (let i = 0, j = ch; i < frames; i++, j += channelCount) {
      const v = pcm[j];
      p[i] = v;
      out[i] = v * step;
    }
  }
  return planar;
}
