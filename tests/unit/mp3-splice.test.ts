// A master encoded as two overlapping halves and spliced must decode like one encode: same length,
// same alignment, no extra error at the seam. Native ffmpeg (Debian's, as in the browser core) encodes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc16, encodeMp3InHalves, mp3Encoders, mp3Frames, spliceMp3, MP3_FRAME_SAMPLES, SPLIT_MP3_MIN_SECONDS } from '../../src/media/mp3-splice';

const RATE = 44100;
const dir = mkdtempSync(join(tmpdir(), 'mp3-splice-'));

function encode(left: Float32Array, right: Float32Array, name: string): Uint8Array {
  const inter = new Float32Array(left.length * 2);
  for (let i = 0; i < left.length; i++) {
    inter[2 * i] = left[i];
    inter[2 * i + 1] = right[i];
  }
  const raw = join(dir, `${name}.f32`);
  const mp3 = join(dir, `${name}.mp3`);
  writeFileSync(raw, Buffer.from(inter.buffer));
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'f32le', '-ar', String(RATE), '-ac', '2', '-i', raw, '-c:a', 'libmp3lame', '-b:a', '320k', '-reservoir', '0', mp3]);
  return new Uint8Array(readFileSync(mp3));
}

function decode(bytes: Uint8Array, name: string): Float32Array {
  const path = join(dir, `${name}.mp3`);
  writeFileSync(path, bytes);
  const out = execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-f', 'f32le', '-ac', '2', '-'], { maxBuffer: 1 << 28 });
  const inter = new Float32Array(out.buffer, out.byteOffset, out.byteLength / 4);
  // The left channel: comparing against the master directly, no downmix law in the way.
  return inter.filter((_, i) => i % 2 === 0);
}

describe('spliceMp3', () => {
  it('joins two halves into a stream that decodes to the same length and quality as one encode', () => {
    const n = RATE * 8 + 777;
    const left = new Float32Array(n);
    const right = new Float32Array(n);
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    for (let i = 0; i < n; i++) {
      const t = i / RATE;
      const s = 0.4 * Math.sin(2 * Math.PI * 330 * t) * (0.6 + 0.4 * Math.sin(2 * Math.PI * 0.7 * t)) + 0.05 * rand();
      left[i] = s;
      right[i] = 0.8 * s;
    }
    const splitFrame = Math.ceil(n / 2 / MP3_FRAME_SAMPLES);
    const split = splitFrame * MP3_FRAME_SAMPLES;
    const pre = 8;
    const post = 8 * MP3_FRAME_SAMPLES;
    const first = encode(left.subarray(0, split + post), right.subarray(0, split + post), 'a');
    const second = encode(left.subarray(split - pre * MP3_FRAME_SAMPLES), right.subarray(split - pre * MP3_FRAME_SAMPLES), 'b');
    const joined = spliceMp3(first, splitFrame, second, pre);
    const whole = encode(left, right, 'whole');

    const mono = left;
    const dj = decode(joined, 'joined');
    const dw = decode(whole, 'whole-check');
    expect(dj.length).toBe(n);
    expect(dw.length).toBe(n);
    const errorDb = (d: Float32Array, from: number, to: number) => {
      let e = 0;
      let s = 0;
      for (let i = from; i < to; i++) {
        e += (d[i] - mono[i]) ** 2;
        s += mono[i] ** 2;
      }
      return 10 * Math.log10(e / s);
    };
    // Overall and right at the seam, the joined stream is as close to the master as one encode.
    expect(errorDb(dj, 0, n)).toBeLessThan(errorDb(dw, 0, n) + 1);
    expect(errorDb(dj, split - 4096, split + 4096)).toBeLessThan(errorDb(dw, split - 4096, split + 4096) + 2);
    expect(errorDb(dj, 0, n)).toBeLessThan(-20);
    // The rewritten Info tag: frame count, and a valid tag CRC.
    const { frames } = mp3Frames(joined);
    const info = frames[0].offset + 36;
    const count = (joined[info + 8] << 24) | (joined[info + 9] << 16) | (joined[info + 10] << 8) | joined[info + 11];
    expect(count).toBe(frames.length - 1);
    const lame = info + 8 + 4 + 4 + 100 + 4;
    expect((joined[lame + 34] << 8) | joined[lame + 35]).toBe(crc16(joined, frames[0].offset, frames[0].offset + 190));
    // The CRCs the native muxer wrote into the whole encode's tag are what crc16 computes.
    const w = mp3Frames(whole).frames;
    const wLame = w[0].offset + 36 + 8 + 4 + 4 + 100 + 4;
    const musicEnd = w.at(-1)!.offset + w.at(-1)!.length;
    expect((whole[wLame + 32] << 8) | whole[wLame + 33]).toBe(crc16(whole, w[0].offset + w[0].length, musicEnd));
    expect((whole[wLame + 34] << 8) | whole[wLame + 35]).toBe(crc16(whole, w[0].offset, w[0].offset + 190));
  });

  it('computes CRC-16/ARC: the catalogue check value, and in pieces', () => {
    const digits = new TextEncoder().encode('123456789');
    expect(crc16(digits, 0, digits.length)).toBe(0xbb3d);
    expect(crc16(digits, 4, 9, crc16(digits, 0, 4))).toBe(0xbb3d);
  });

  it('rejects input that is not MP3', () => {
    expect(() => spliceMp3(new Uint8Array(100), 1, new Uint8Array(100), 1)).toThrow(/no frames/);
  });
});

describe('encodeMp3InHalves', () => {
  const tone = (n: number) => Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 220 * i) / RATE));

  it('encodes a short master whole, with its tags', async () => {
    const n = RATE * 5;
    expect(mp3Encoders(n, RATE)).toBe(1);
    const calls: [number, number, boolean][] = [];
    const x = tone(n);
    const bytes = await encodeMp3InHalves(n, RATE, async (from, to, first) => {
      calls.push([from, to, first]);
      return encode(x.subarray(from, to), x.subarray(from, to), 'short');
    });
    expect(calls).toEqual([[0, n, true]]);
    expect(decode(bytes, 'short-check').length).toBe(n);
  });

  it('encodes a long master as two overlapping halves at once and splices them to its exact length', async () => {
    const n = RATE * (SPLIT_MP3_MIN_SECONDS + 3) + 555;
    expect(mp3Encoders(n, RATE)).toBe(2);
    const x = tone(n);
    const calls: [number, number, boolean][] = [];
    let running = 0;
    let most = 0;
    const bytes = await encodeMp3InHalves(n, RATE, async (from, to, first) => {
      calls.push([from, to, first]);
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return encode(x.subarray(from, to), x.subarray(from, to), first ? 'first' : 'second');
    });
    expect(most).toBe(2);
    const split = Math.ceil(n / 2 / MP3_FRAME_SAMPLES) * MP3_FRAME_SAMPLES;
    expect(calls).toEqual([
      [0, split + 8 * MP3_FRAME_SAMPLES, true],
      [split - 8 * MP3_FRAME_SAMPLES, n, false],
    ]);
    const d = decode(bytes, 'halves-check');
    expect(d.length).toBe(n);
    let err = 0;
    let sig = 0;
    for (let i = 0; i < n; i++) {
      err += (d[i] - x[i]) ** 2;
      sig += x[i] ** 2;
    }
    expect(10 * Math.log10(sig / err)).toBeGreaterThan(30);
  });
});
