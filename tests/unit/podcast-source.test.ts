// Reading an episode in pieces: the MP3 frame index and WAV layout must make every slice decode to exactly the
// samples the whole file decodes to at that time, or the analysis and the reel would drift from the source.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { indexMp3, Mp3Indexer, mp3Duration, PREROLL_FRAMES } from '../../src/features/podcast/mp3-index';
import { readWavLayout, pcmSource, mp3Source, sliceFor } from '../../src/features/podcast/source';
import { decodeRange, planChunks } from '../../src/features/podcast/analyse';
import { CHUNK_QUANTUM_S } from '../../src/features/podcast/features';
import { nativeSliceDecoder } from './podcast-helpers';
// @ts-expect-error plain ESM script without types
import { generatePodcastFixtures, PODCAST_FIXTURE_DIR } from '../fixtures/podcast-episode.mjs';

const fixture = (name: string) => join(PODCAST_FIXTURE_DIR, name);

beforeAll(() => {
  generatePodcastFixtures();
}, 120_000);

function wholeDecode(path: string, rate: number, channels: number): Float32Array[] {
  const out = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', path, '-ac', String(channels), '-ar', String(rate), '-f', 'f32le', 'pipe:1'], { maxBuffer: 1 << 30 });
  const all = new Float32Array(new Uint8Array(out).buffer);
  return Array.from({ length: channels }, (_, c) => Float32Array.from({ length: all.length / channels }, (_, i) => all[i * channels + c]));
}

function packets(path: string): number {
  const out = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'a:0', '-count_packets', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', path], { encoding: 'utf8' });
  return Number(out.trim());
}

describe('MP3 frame index', () => {
  it.each(['episode.mp3', 'episode-mono.mp3'])('%s: one entry per frame ffmpeg reads, with the LAME delay', (name) => {
    const bytes = new Uint8Array(readFileSync(fixture(name)));
    const ix = indexMp3(bytes);
    expect(ix.frames).toBe(packets(fixture(name)));
    expect(ix.startSkip).toBe(576 + 529);
    expect(ix.truncated).toBe(false);
    expect(ix.skippedBytes).toBe(0);
    const whole = wholeDecode(fixture(name), ix.sampleRate, 1)[0];
    // Our programme length is what ffmpeg itself decodes (start delay and end padding trimmed).
    expect(Math.abs(mp3Duration(ix) * ix.sampleRate - whole.length)).toBeLessThanOrEqual(1);
  });

  it('gives the same index when the file arrives in small pieces', () => {
    const bytes = new Uint8Array(readFileSync(fixture('episode.mp3')));
    const ix = new Mp3Indexer();
    for (let a = 0; a < bytes.length; a += 997) ix.push(bytes.subarray(a, a + 997));
    const piecewise = ix.finish(bytes.length);
    const whole = indexMp3(bytes);
    expect(piecewise.frames).toBe(whole.frames);
    expect(piecewise.offsets).toEqual(whole.offsets);
    expect(piecewise.startSkip).toBe(whole.startSkip);
  });

  it('marks a file cut mid-frame as truncated', () => {
    const ix = indexMp3(new Uint8Array(readFileSync(fixture('truncated.mp3'))));
    expect(ix.truncated).toBe(true);
    expect(mp3Duration(ix)).toBeGreaterThan(60);
  });

  it.each([
    [0, 3.7],
    [12.345, 19.01],
    [61.02, 61.9],
    [100, 122.9],
  ])('a slice for %d–%d s decodes to the whole file’s samples there', async (start, end) => {
    const path = fixture('episode.mp3');
    const source = mp3Source(indexMp3(new Uint8Array(readFileSync(path))));
    const rate = source.sampleRate;
    const whole = wholeDecode(path, rate, 2);
    const { channels } = await decodeRange(nativeSliceDecoder(path, 'mp3'), source, start, end, rate, 2);
    const first = Math.round(start * rate);
    expect(channels[0].length).toBe(Math.round((Math.min(end, source.durationS) - start) * rate));
    let maxDiff = 0;
    for (let c = 0; c < 2; c++) for (let i = 0; i < channels[c].length && first + i < whole[c].length; i++) maxDiff = Math.max(maxDiff, Math.abs(channels[c][i] - whole[c][first + i]));
    expect(maxDiff).toBeLessThan(1e-6);
    const slice = sliceFor(source, start, end);
    expect(slice.dropSamples).toBeGreaterThanOrEqual(start < 1 ? 0 : PREROLL_FRAMES * 1152);
  });
});

describe('WAV layout', () => {
  it('slices PCM by byte offsets that decode to the exact samples', async () => {
    const path = fixture('episode.wav');
    const bytes = new Uint8Array(readFileSync(path));
    const layout = readWavLayout(bytes.subarray(0, 4096), bytes.length)!;
    expect(layout).toMatchObject({ dataOffset: 44, format: 's16le', blockAlign: 4, sampleRate: 44100, channels: 2 });
    const source = pcmSource(layout);
    const whole = wholeDecode(path, 44100, 1)[0];
    const { channels } = await decodeRange(nativeSliceDecoder(path, 'pcm'), source, 33.3, 35.1, 44100, 1);
    const first = Math.round(33.3 * 44100);
    for (let i = 0; i < channels[0].length; i += 7) expect(channels[0][i]).toBe(whole[first + i]);
  });

  it('leaves compressed or unreadable WAVs to ffmpeg', () => {
    const head = new Uint8Array(64);
    head.set([...'RIFF'].map((c) => c.charCodeAt(0)), 0);
    head.set([...'WAVEfmt '].map((c) => c.charCodeAt(0)), 8);
    new DataView(head.buffer).setUint32(16, 16, true);
    new DataView(head.buffer).setUint16(20, 0x11, true); // IMA ADPCM
    expect(readWavLayout(head, 64)).toBeNull();
  });
});

describe('analysis chunks', () => {
  it.each([61.234, 3600, 10800.5])('cover %d s without gaps, starting on whole frames of every grid', (duration) => {
    const chunks = planChunks(duration, 600);
    expect(chunks[0].startS).toBe(0);
    expect(chunks.at(-1)!.endS).toBe(duration);
    for (let i = 1; i < chunks.length; i++) {
      expect(chunks[i].startS).toBe(chunks[i - 1].endS);
      const q = chunks[i].startS / CHUNK_QUANTUM_S;
      expect(Math.abs(q - Math.round(q))).toBeLessThan(1e-9);
    }
  });
});
