import { describe, expect, it } from 'vitest';
import { isWav, parseWav, readWavLayout, UnsupportedWavEncodingError, WavFormatError } from '../../src/dsp/wav';

interface WavSpec {
  formatTag?: number;
  channels: number;
  rate: number;
  bits: number;
  extensible?: boolean;
  /** Extra chunks placed between fmt and data (odd sizes exercise pad bytes). */
  extraChunks?: { id: string; body: Uint8Array }[];
  declaredDataBytes?: number;
}

/** Builds WAV bytes from interleaved raw sample bytes. */
function wav(spec: WavSpec, data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  const chunk = (id: string, body: Uint8Array, declared = body.length) => {
    const head = new Uint8Array(8);
    head.set([...id].map((c) => c.charCodeAt(0)));
    new DataView(head.buffer).setUint32(4, declared, true);
    parts.push(head, body);
    if (body.length & 1) parts.push(new Uint8Array(1));
  };
  const fmt = new Uint8Array(spec.extensible ? 40 : 16);
  const v = new DataView(fmt.buffer);
  const tag = spec.formatTag ?? 1;
  const blockAlign = (spec.channels * spec.bits) / 8;
  v.setUint16(0, spec.extensible ? 0xfffe : tag, true);
  v.setUint16(2, spec.channels, true);
  v.setUint32(4, spec.rate, true);
  v.setUint32(8, spec.rate * blockAlign, true);
  v.setUint16(12, blockAlign, true);
  v.setUint16(14, spec.bits, true);
  if (spec.extensible) {
    v.setUint16(16, 22, true);
    v.setUint16(18, spec.bits, true);
    v.setUint32(20, 3, true);
    v.setUint16(24, tag, true);
    fmt.set([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 26);
  }
  chunk('fmt ', fmt);
  for (const c of spec.extraChunks ?? []) chunk(c.id, c.body);
  chunk('data', data, spec.declaredDataBytes ?? data.length);
  const body = concat(parts);
  const riff = new Uint8Array(12);
  riff.set([...'RIFF'].map((c) => c.charCodeAt(0)));
  new DataView(riff.buffer).setUint32(4, body.length + 4, true);
  riff.set([...'WAVE'].map((c) => c.charCodeAt(0)), 8);
  return concat([riff, body]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function int16(values: number[]): Uint8Array {
  const b = new Uint8Array(values.length * 2);
  values.forEach((x, i) => new DataView(b.buffer).setInt16(i * 2, x, true));
  return b;
}

function int24(values: number[]): Uint8Array {
  const b = new Uint8Array(values.length * 3);
  values.forEach((x, i) => {
    const u = x < 0 ? x + 0x1000000 : x;
    b.set([u & 0xff, (u >> 8) & 0xff, (u >> 16) & 0xff], i * 3);
  });
  return b;
}

function float32(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

function reasonOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(WavFormatError);
    return (e as WavFormatError).reason;
  }
  throw new Error('expected parseWav to throw');
}

describe('parseWav', () => {
  it('reads interleaved 16-bit PCM into planar channels scaled to ±1', () => {
    const a = parseWav(wav({ channels: 2, rate: 44100, bits: 16 }, int16([16384, -32768, 32767, 0, -16384, 8192])));
    expect(a.sampleRate).toBe(44100);
    expect(a.encoding).toBe('PCM 16-bit');
    expect(Array.from(a.channels[0])).toEqual([0.5, 32767 / 32768, -0.5]);
    expect(Array.from(a.channels[1])).toEqual([-1, 0, 0.25]);
    expect(a.warnings).toEqual([]);
  });

  it('reads 16-bit PCM the same wherever the file sits in memory (aligned fast path or not)', () => {
    const samples = Array.from({ length: 3000 }, (_, i) => ((i * 7919) % 65536) - 32768);
    const file = wav({ channels: 2, rate: 44100, bits: 16 }, int16(samples));
    const shifted = new Uint8Array(file.length + 1).subarray(1); // odd byteOffset: no Int16Array view
    shifted.set(file);
    const aligned = parseWav(file);
    const unaligned = parseWav(shifted);
    expect(Array.from(aligned.channels[1])).toEqual(samples.filter((_, i) => i % 2 === 1).map((k) => k / 32768));
    expect(unaligned.channels.map((c) => Array.from(c))).toEqual(aligned.channels.map((c) => Array.from(c)));
    // The aligned read also hands over the file's integers, planar.
    expect(Array.from(aligned.pcm16![0])).toEqual(samples.filter((_, i) => i % 2 === 0));
    expect(Array.from(aligned.pcm16![1])).toEqual(samples.filter((_, i) => i % 2 === 1));
  });

  it('reads 24-bit PCM including the sign of negative samples', () => {
    const a = parseWav(wav({ channels: 1, rate: 48000, bits: 24 }, int24([4194304, -8388608, -1, 8388607])));
    expect(Array.from(a.channels[0])).toEqual([0.5, -1, -1 / 8388608, 8388607 / 8388608].map(Math.fround));
  });

  it('reads 8-bit unsigned and 32-bit integer PCM', () => {
    expect(Array.from(parseWav(wav({ channels: 1, rate: 8000, bits: 8 }, new Uint8Array([0, 128, 192]))).channels[0])).toEqual([-1, 0, 0.5]);
    const i32 = new Uint8Array(new Int32Array([-2147483648, 1073741824]).buffer);
    expect(Array.from(parseWav(wav({ channels: 1, rate: 8000, bits: 32 }, i32)).channels[0])).toEqual([-1, 0.5]);
  });

  it('reads IEEE float 32 and 64 bit, passing values beyond ±1 through', () => {
    const f = parseWav(wav({ formatTag: 3, channels: 2, rate: 96000, bits: 32 }, float32([0.25, -1.5, 2, 0.125])));
    expect(f.encoding).toBe('float 32-bit');
    expect(Array.from(f.channels[0])).toEqual([0.25, 2]);
    expect(Array.from(f.channels[1])).toEqual([-1.5, 0.125]);
    const d = parseWav(wav({ formatTag: 3, channels: 1, rate: 44100, bits: 64 }, new Uint8Array(new Float64Array([0.1, -0.75]).buffer)));
    expect(Array.from(d.channels[0])).toEqual([Math.fround(0.1), -0.75]);
  });

  it('reads WAVE_FORMAT_EXTENSIBLE by its sub-format', () => {
    const pcm = parseWav(wav({ extensible: true, formatTag: 1, channels: 2, rate: 48000, bits: 24 }, int24([4194304, -4194304])));
    expect(Array.from(pcm.channels[0])).toEqual([0.5]);
    expect(Array.from(pcm.channels[1])).toEqual([-0.5]);
    const flt = parseWav(wav({ extensible: true, formatTag: 3, channels: 1, rate: 48000, bits: 32 }, float32([0.75])));
    expect(flt.encoding).toBe('float 32-bit');
    expect(Array.from(flt.channels[0])).toEqual([0.75]);
  });

  it('skips unknown chunks, honouring the pad byte after an odd-sized chunk', () => {
    const bytes = wav(
      { channels: 1, rate: 22050, bits: 16, extraChunks: [{ id: 'LIST', body: new Uint8Array([1, 2, 3]) }, { id: 'bext', body: new Uint8Array(10) }] },
      int16([100, -100]),
    );
    expect(Array.from(parseWav(bytes).channels[0])).toEqual([100 / 32768, -100 / 32768].map(Math.fround));
  });

  it('decodes what a truncated data chunk holds and says how much is missing', () => {
    const frames = 2 * 1000;
    const declared = 5 * 1000 * 2 * 2;
    const a = parseWav(wav({ channels: 2, rate: 1000, bits: 16, declaredDataBytes: declared }, int16(new Array(frames * 2).fill(1000))));
    expect(a.channels[0].length).toBe(frames);
    expect(a.warnings).toEqual(['file is truncated: 2.0 s of 5.0 s decoded']);
  });

  it('drops a trailing partial frame of a truncated file', () => {
    const data = int16([1, 2, 3]);
    const a = parseWav(wav({ channels: 2, rate: 8000, bits: 16, declaredDataBytes: 400 }, data));
    expect(a.channels[0].length).toBe(1);
    expect(a.channels[1].length).toBe(1);
  });

  it('reads to the end when a streaming writer left the data size 0', () => {
    const a = parseWav(wav({ channels: 1, rate: 8000, bits: 16, declaredDataBytes: 0 }, int16([1, 2, 3, 4])));
    expect(a.channels[0].length).toBe(4);
    expect(a.warnings).toEqual([]);
  });

  it('gives clear reasons for empty, foreign and unreadable files', () => {
    expect(reasonOf(() => parseWav(new Uint8Array(0)))).toBe('the file is empty (0 bytes)');
    expect(reasonOf(() => parseWav(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13])))).toBe('not a WAV file');
    expect(reasonOf(() => parseWav(new TextEncoder().encode('RIFF\0\0\0\0WAVE')))).toBe('the WAV file has no format chunk');
    expect(reasonOf(() => parseWav(wav({ channels: 1, rate: 8000, bits: 16 }, new Uint8Array(0))))).toBe('the WAV file holds no audio samples');
    expect(reasonOf(() => parseWav(wav({ channels: 0, rate: 8000, bits: 16 }, int16([1]))))).toBe('the WAV file declares 0 channels');
  });

  it('names the format tag of encodings it does not read', () => {
    const f = () => parseWav(wav({ formatTag: 0x55, channels: 2, rate: 44100, bits: 16 }, int16([1, 2])));
    expect(f).toThrow(UnsupportedWavEncodingError);
    expect(reasonOf(f)).toBe('unsupported WAV encoding (format 0x0055)');
  });

  it('sniffs RIFF/WAVE only', () => {
    expect(isWav(wav({ channels: 1, rate: 8000, bits: 16 }, int16([0])))).toBe(true);
    expect(isWav(new TextEncoder().encode('RIFF\0\0\0\0AVI LIST'))).toBe(false);
  });
});

describe('readWavLayout', () => {
  it('finds the samples from the first bytes of a larger file, or says it needs more', () => {
    const bytes = wav({ channels: 2, rate: 44100, bits: 16, extraChunks: [{ id: 'LIST', body: new Uint8Array(5001) }] }, int16([1, 2, 3, 4, 5, 6]));
    const full = readWavLayout(bytes);
    expect(full).toMatchObject({ dataStart: bytes.length - 12, frames: 3, frameBytes: 4, warnings: [] });
    expect(readWavLayout(bytes.subarray(0, 4096), bytes.length)).toBeNull();
    expect(readWavLayout(bytes.subarray(0, bytes.length - 12), bytes.length)).toEqual(full);
  });

  it('judges truncation by the whole file size, not by the bytes it was given', () => {
    const bytes = wav({ channels: 1, rate: 8000, bits: 16, declaredDataBytes: 16000 }, int16([1, 2, 3, 4]));
    expect(readWavLayout(bytes.subarray(0, 44), bytes.length)?.warnings).toEqual(['file is truncated: 0.0 s of 1.0 s decoded']);
  });
});
