// Joins two MP3 streams encoded from overlapping halves of one master, so the two halves can be
// encoded on both cores at once. Without the bit reservoir every frame is self-contained, and
// frame j of an encode always covers input [j·1152 − delay, (j+1)·1152 − delay), so halves that
// start on a 1152-sample boundary line up frame for frame. The Info/LAME tag of the first half is
// rewritten with the joined frame count, size, end padding and CRCs so players stay gapless.
// Written here because no maintained npm package splices MP3 frames with LAME-tag rewriting.

export const MP3_FRAME_SAMPLES = 1152;

interface Frame {
  offset: number;
  length: number;
}

const BITRATES_MPEG1_L3 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0];
const RATES_MPEG1 = [44100, 48000, 32000, 0];

function id3v2Length(b: Uint8Array): number {
  if (b.length < 10 || b[0] !== 0x49 || b[1] !== 0x44 || b[2] !== 0x33) return 0;
  const size = ((b[6] & 0x7f) << 21) | ((b[7] & 0x7f) << 14) | ((b[8] & 0x7f) << 7) | (b[9] & 0x7f);
  return 10 + size + (b[5] & 0x10 ? 10 : 0);
}

/** MPEG-1 Layer III frames after any ID3v2 tag, up to the first byte that is not a frame. */
export function mp3Frames(b: Uint8Array): { start: number; frames: Frame[] } {
  const start = id3v2Length(b);
  const frames: Frame[] = [];
  let o = start;
  while (o + 4 <= b.length && b[o] === 0xff && (b[o + 1] & 0xfe) === 0xfa) {
    const bitrate = BITRATES_MPEG1_L3[b[o + 2] >> 4] * 1000;
    const rate = RATES_MPEG1[(b[o + 2] >> 2) & 3];
    if (!bitrate || !rate) break;
    const length = Math.floor((144 * bitrate) / rate) + ((b[o + 2] >> 1) & 1);
    if (o + length > b.length) break;
    frames.push({ offset: o, length });
    o += length;
  }
  return { start, frames };
}

/** Byte offset of the "Info"/"Xing" tag inside the first frame, or -1. */
function infoTagOffset(b: Uint8Array, frame: Frame): number {
  const mono = (b[frame.offset + 3] >> 6) === 3;
  const o = frame.offset + 4 + (mono ? 17 : 32);
  const tag = String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3]);
  return tag === 'Info' || tag === 'Xing' ? o : -1;
}

/** CRC-16/ARC (poly 0x8005 reflected, init 0): what LAME and ffmpeg use for the Info tag. */
export function crc16(b: Uint8Array, from: number, to: number, crc = 0): number {
  const table = CRC16_TABLE;
  for (let i = from; i < to; i++) crc = (crc >>> 8) ^ table[(crc ^ b[i]) & 0xff];
  return crc & 0xffff;
}

/** CRC-16/ARC of each byte value: one lookup per byte instead of eight shifts (the music CRC covers the whole file). */
const CRC16_TABLE = Uint16Array.from({ length: 256 }, (_, byte) => {
  let crc = byte;
  for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  return crc;
});

function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/**
 * first: the encode of master[0, splitFrame·1152 + postroll); keeps its first `keepFrames` audio frames.
 * second: the encode of master[splitFrame·1152 − prerollFrames·1152, end); drops its first `skipFrames`.
 */
export function spliceMp3(first: Uint8Array, keepFrames: number, second: Uint8Array, skipFrames: number): Uint8Array {
  const a = mp3Frames(first);
  const b = mp3Frames(second);
  if (a.frames.length === 0 || b.frames.length === 0) throw new Error('MP3 splice: an encoded half has no frames');
  const aTag = infoTagOffset(first, a.frames[0]);
  const bTag = infoTagOffset(second, b.frames[0]);
  if (aTag < 0 || bTag < 0) throw new Error('MP3 splice: an encoded half has no Info tag');
  const aAudio = a.frames.slice(1, 1 + keepFrames);
  const bAudio = b.frames.slice(1 + skipFrames);
  if (aAudio.length !== keepFrames) throw new Error(`MP3 splice: the first half has ${a.frames.length - 1} frames, ${keepFrames} needed`);
  const headEnd = a.frames[0].offset + a.frames[0].length;
  const aEnd = aAudio.length ? aAudio[aAudio.length - 1].offset + aAudio[aAudio.length - 1].length : headEnd;
  const bStart = bAudio.length ? bAudio[0].offset : 0;
  const bEnd = bAudio.length ? bAudio[bAudio.length - 1].offset + bAudio[bAudio.length - 1].length : 0;
  const out = new Uint8Array(aEnd + (bEnd - bStart));
  out.set(first.subarray(0, aEnd), 0);
  out.set(second.subarray(bStart, bEnd), aEnd);

  // Info tag: flags, frames, bytes, TOC(100), quality, then the 36-byte LAME tag.
  const flags = (out[aTag + 4] << 24) | (out[aTag + 5] << 16) | (out[aTag + 6] << 8) | out[aTag + 7];
  let o = aTag + 8;
  const framesAt = flags & 1 ? o : -1;
  if (flags & 1) o += 4;
  const bytesAt = flags & 2 ? o : -1;
  if (flags & 2) o += 4;
  if (flags & 4) o += 100;
  if (flags & 8) o += 4;
  const lame = o;
  const bLame = lame - aTag + bTag;
  const frameStart = a.frames[0].offset;
  const totalFrames = aAudio.length + bAudio.length;
  const audioBytes = out.length - headEnd;
  const musicBytes = a.frames[0].length + audioBytes;
  if (framesAt >= 0) writeU32(out, framesAt, totalFrames);
  if (bytesAt >= 0) writeU32(out, bytesAt, musicBytes);
  // The joined stream ends where the second half ends, so its end padding applies (12 low bits of 3 bytes).
  out[lame + 22] = (out[lame + 22] & 0xf0) | (second[bLame + 22] & 0x0f);
  out[lame + 23] = second[bLame + 23];
  writeU32(out, lame + 28, musicBytes);
  const musicCrc = crc16(out, headEnd, out.length);
  out[lame + 32] = musicCrc >> 8;
  out[lame + 33] = musicCrc & 0xff;
  const tagCrc = crc16(out, frameStart, frameStart + 190);
  out[lame + 34] = tagCrc >> 8;
  out[lame + 35] = tagCrc & 0xff;
  return out;
}

/** Below this an MP3 encodes whole: two ffmpeg starts would cost more than they save. */
export const SPLIT_MP3_MIN_SECONDS = 20;
/** Frames each half encodes past the seam, so both encoders' analysis is settled where the halves meet. */
export const SPLIT_OVERLAP_FRAMES = 8;

/** How many encoders encodeMp3InHalves runs for a master of `frames` at `sampleRate`. */
export function mp3Encoders(frames: number, sampleRate: number): 1 | 2 {
  return frames < SPLIT_MP3_MIN_SECONDS * sampleRate ? 1 : 2;
}

/**
 * Encodes master frames [0, frames) as one MP3: whole when short, else as two overlapping halves at once (one per
 * core) spliced at a frame boundary. `encode(from, to, first)` encodes frames [from, to); only the first carries tags.
 */
export async function encodeMp3InHalves(frames: number, sampleRate: number, encode: (from: number, to: number, first: boolean) => Promise<Uint8Array>): Promise<Uint8Array> {
  if (mp3Encoders(frames, sampleRate) === 1) return encode(0, frames, true);
  const splitFrame = Math.ceil(frames / 2 / MP3_FRAME_SAMPLES);
  const split = splitFrame * MP3_FRAME_SAMPLES;
  const firstEnd = Math.min(frames, split + SPLIT_OVERLAP_FRAMES * MP3_FRAME_SAMPLES);
  const secondStart = split - SPLIT_OVERLAP_FRAMES * MP3_FRAME_SAMPLES;
  const [a, b] = await Promise.all([encode(0, firstEnd, true), encode(secondStart, frames, false)]);
  return spliceMp3(a, splitFrame, b, SPLIT_OVERLAP_FRAMES);
}
