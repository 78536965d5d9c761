// The import decoder's WAV paths: a 16-bit WAV at the session rate is read piece by piece, every other file whole;
// both must give the same samples, stored Blobs and peaks.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeAudioFile, readPieces } from '../../src/media/decode';
import { parseWav } from '../../src/dsp/wav';
import { computePeaks } from '../../src/dsp/peaks';
import { loadDspKernels } from '../../src/dsp/kernels';
import { splitPcm16 } from '../../src/dsp/pcm16';
import { isPcm16, PEAKS_PER_SECOND } from '../../src/shared/session';
import type { DecodedAudio } from '../../src/shared/decoded-audio';

/** A 16-bit PCM WAV: noise with a full-scale step, an odd-sized chunk before the data, `frames` frames. */
function pcm16Wav(channels: number, rate: number, frames: number, extra = 1001): Uint8Array<ArrayBuffer> {
  // `extra` bytes of LIST chunk; odd, so the writer pads it and the reader must skip the pad byte.
  const dataBytes = frames * channels * 2;
  const bytes = new Uint8Array(12 + 24 + 8 + extra + 1 + 8 + dataBytes);
  const v = new DataView(bytes.buffer);
  const tag = (at: number, s: string) => [...s].forEach((c, i) => (bytes[at + i] = c.charCodeAt(0)));
  tag(0, 'RIFF');
  v.setUint32(4, bytes.length - 8, true);
  tag(8, 'WAVE');
  tag(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, channels, true);
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * channels * 2, true);
  v.setUint16(32, channels * 2, true);
  v.setUint16(34, 16, true);
  tag(36, 'LIST');
  v.setUint32(40, extra, true);
  const data = 44 + extra + 1;
  tag(data, 'data');
  v.setUint32(data + 4, dataBytes, true);
  let x = 1;
  for (let i = 0; i < frames * channels; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    const s = i === 7 ? -32768 : i === 8 ? 32767 : (x >>> 16) - 32768;
    v.setInt16(data + 8 + 2 * i, s, true);
  }
  return bytes;
}

const noProgress = () => undefined;

/** Index of the first sample that differs (or the shorter length), −1 if the arrays are equal: fast on long arrays. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (!Object.is(a[i], b[i])) return i;
  return a.length === b.length ? -1 : Math.min(a.length, b.length);
}
const kernels = () => loadDspKernels(readFileSync(new URL('../../src/dsp/kernels.wasm', import.meta.url)));

async function storedInts(d: DecodedAudio): Promise<Int16Array[]> {
  expect(d.encoded?.encoding).toBe('i16');
  return Promise.all(d.encoded!.channels.map(async (b) => new Int16Array(await b.arrayBuffer())));
}

/** What the whole-file path gives: parseWav's floats and integers, peaks of the floats. */
function reference(bytes: Uint8Array) {
  const wav = parseWav(bytes);
  return { channels: wav.channels, pcm16: wav.pcm16!, peaks: computePeaks(wav.channels, wav.sampleRate, PEAKS_PER_SECOND) };
}

describe('decodeAudioFile, 16-bit WAV read in pieces', () => {
  // Stereo: 2 300 000 frames, past one 2 097 152-frame progress step and over nine 262 144-frame pieces, the last ones
  // partial, with peak bins across the seams; mono: 600 000 frames, three pieces.
  for (const [channels, frames] of [
    [2, 2_300_000],
    [1, 600_000],
  ] as const) {
    for (const withKernels of [false, true]) {
      it(`gives the file's integers, stored as they are, and the whole-file peaks (${channels} ch, ${withKernels ? 'SIMD kernels' : 'TypeScript'})`, async () => {
        const bytes = pcm16Wav(channels, 44100, frames);
        const ref = reference(bytes);
        const progress: number[] = [];
        const d = await decodeAudioFile(new Blob([bytes]), 'stem.wav', 44100, (p) => progress.push(p.fraction ?? -1), { kernels: withKernels ? await kernels() : undefined });
        expect(d.channels).toHaveLength(channels);
        // No float copy: the engine plays the integers.
        expect(isPcm16(d.channels)).toBe(true);
        d.channels.forEach((c, i) => expect(firstDifference(c, ref.pcm16[i])).toBe(-1));
        (await storedInts(d)).forEach((c, i) => expect(firstDifference(c, ref.pcm16[i])).toBe(-1));
        expect(firstDifference(d.peaks!, ref.peaks)).toBe(-1);
        expect(d.peaks!.length).toBe(2 * Math.ceil(frames / 441));
        expect(d).toMatchObject({ sampleRate: 44100, sourceRate: 44100, decoder: 'wav', warnings: [] });
        // Progress about every two million frames, not per piece.
        expect(progress.length).toBeLessThanOrEqual(5);
        expect(progress.at(-1)).toBe(1);
      });
    }
  }

  it('reads a WAV whose chunks before the samples outrun the first read the same, whole', async () => {
    const bytes = pcm16Wav(2, 44100, 50_000, 100_001);
    const d = await decodeAudioFile(new Blob([bytes]), 'long-header.wav', 44100, noProgress);
    expect(firstDifference(d.channels[1], reference(bytes).channels[1])).toBe(-1);
    expect(d.encoded?.encoding).toBe('i16');
  });

  it('warns about a truncated file and keeps the whole frames it holds', async () => {
    const full = pcm16Wav(2, 44100, 300_000);
    const cut = full.slice(0, full.length - 1001); // ends inside a frame
    const d = await decodeAudioFile(new Blob([cut]), 'cut.wav', 44100, noProgress);
    const ref = reference(cut);
    expect(firstDifference(d.channels[0], ref.pcm16[0])).toBe(-1);
    expect(d.channels[0].length).toBe(300_000 - 251);
    expect(d.warnings).toEqual([expect.stringMatching(/^file is truncated: 6\.8 s of 6\.8 s decoded$/)]);
  });

  it('reads a WAV at another rate whole and resamples it, storing floats', async () => {
    const d = await decodeAudioFile(new Blob([pcm16Wav(2, 48000, 96_000)]), 'other-rate.wav', 44100, noProgress);
    expect(d.channels[0].length).toBe(88_200);
    expect(d.encoded?.encoding).toBe('f32');
    expect(d.sourceRate).toBe(48000);
  });

  it('names the file and the reason for a broken WAV header', async () => {
    const bytes = pcm16Wav(2, 44100, 100_000);
    bytes.set([0, 0], 22); // 0 channels
    await expect(decodeAudioFile(new Blob([bytes]), 'broken.wav', 44100, noProgress)).rejects.toThrow('broken.wav: the WAV file declares 0 channels');
  });
});

describe('readPieces', () => {
  const bytes = Uint8Array.from({ length: 10_000 }, (_, i) => i % 251);

  async function pieces(stream: ReadableStream<Uint8Array>, size: number): Promise<number[][]> {
    const out: number[][] = [];
    await readPieces(stream, size, (p) => out.push([...p]));
    return out;
  }

  const expected = (size: number) => Array.from({ length: Math.ceil(bytes.length / size) }, (_, k) => [...bytes.subarray(k * size, (k + 1) * size)]);

  it('fills whole pieces from a byte stream, the last one partial', async () => {
    expect(await pieces(new Blob([bytes]).stream(), 4096)).toEqual(expected(4096));
  });

  it('fills whole pieces from a stream of odd-sized chunks without a BYOB reader', async () => {
    let at = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (at >= bytes.length) return c.close();
        const n = 1 + ((at * 7) % 3000);
        c.enqueue(bytes.slice(at, at + n));
        at += n;
      },
    });
    expect(await pieces(stream, 4096)).toEqual(expected(4096));
  });
});

describe('splitPcm16', () => {
  it('splits a stereo piece at any byte offset and length into the planar channels from a frame, with or without the kernels', async () => {
    const k = await kernels();
    const raw = new Int16Array(1 + 2 * 1003).map((_, i) => ((i * 7919) % 65536) - 32768);
    // 1000 frames fill the kernels' 8-frame steps; 1003 leave a tail of 3; the odd offset is not 4-byte aligned.
    for (const pcm of [raw.subarray(0, 2000), raw.subarray(1, 2001), raw.subarray(0, 2006), raw.subarray(1)]) {
      const frames = pcm.length / 2;
      for (const withKernels of [undefined, k]) {
        const planar = [new Int16Array(frames + 7).fill(99), new Int16Array(frames + 7).fill(99)];
        splitPcm16(pcm, planar, 5, withKernels);
        for (let i = 0; i < frames; i++) expect([planar[0][5 + i], planar[1][5 + i]]).toEqual([pcm[2 * i], pcm[2 * i + 1]]);
        // Nothing outside [5, 5 + frames) is written.
        expect([...planar[0].subarray(0, 5), ...planar[1].subarray(0, 5), planar[0][frames + 5], planar[1][frames + 6]]).toEqual(new Array(12).fill(99));
      }
    }
  });

  it('copies a mono piece from the frame', () => {
    const pcm = Int16Array.from({ length: 10 }, (_, i) => i * 1000 - 5000);
    const planar = [new Int16Array(14)];
    splitPcm16(pcm, planar, 3);
    expect(Array.from(planar[0])).toEqual([0, 0, 0, ...pcm, 0]);
  });
});
