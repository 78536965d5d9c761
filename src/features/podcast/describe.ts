// Reads what an episode file is and how to decode it in pieces, without decoding it (see source.ts).
// The file is read through a ByteReader (a Blob in the browser, a file in tests), in pieces.
import { sniffContainer } from '../../media/decode';
import { DecodeError } from '../../shared/errors';
import { Mp3Indexer, mp3Duration } from './mp3-index';
import { mp3Source, pcmSource, readWavLayout, type EpisodeSource } from './source';

export interface ByteReader {
  readonly size: number;
  read(start: number, end: number): Promise<Uint8Array>;
}

/** A Blob as a ByteReader. */
export function blobReader(blob: Blob): ByteReader {
  return { size: blob.size, read: async (start, end) => new Uint8Array(await blob.slice(start, end).arrayBuffer()) };
}

export interface ProbeResult {
  durationS: number | null;
  sampleRate: number;
  channels: number;
  codec: string;
}

export interface DescribedEpisode {
  source: EpisodeSource;
  warnings: string[];
}

const HEAD_BYTES = 256 * 1024;
const PIECE_BYTES = 8 * 1024 * 1024;
/** The longest episode the app takes on: 3 hours, with room for an intro that runs long. */
export const MAX_EPISODE_S = 3.5 * 3600;

const REFUSED: Record<string, string> = {
  midi: 'this is a MIDI file (notes, not audio)',
  image: 'not a supported audio format (this is an image)',
};

function durationText(s: number): string {
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.round(s % 60)).padStart(2, '0')}`;
}

/**
 * The episode's source description; throws DecodeError naming the file for empty, unsupported or undecodable
 * files. `probe` asks ffmpeg about formats read whole (M4A, Ogg, FLAC…); it throws with a reason when it cannot.
 */
export async function describeEpisode(reader: ByteReader, fileName: string, probe: () => Promise<ProbeResult>, onProgress?: (fraction: number) => void): Promise<DescribedEpisode> {
  if (reader.size === 0) throw new DecodeError(fileName, 'the file is empty (0 bytes)');
  const head = await reader.read(0, Math.min(reader.size, HEAD_BYTES));
  const container = sniffContainer(head.subarray(0, 16));
  if (REFUSED[container]) throw new DecodeError(fileName, REFUSED[container]);
  const warnings: string[] = [];
  let source: EpisodeSource | null = null;

  if (container === 'wav') {
    const layout = readWavLayout(head, reader.size);
    if (layout) source = pcmSource(layout);
  } else if (container === 'mp3') {
    const ix = new Mp3Indexer();
    ix.push(head);
    for (let at = head.length; at < reader.size; at += PIECE_BYTES) {
      ix.push(await reader.read(at, Math.min(reader.size, at + PIECE_BYTES)));
      onProgress?.(Math.min(1, (at + PIECE_BYTES) / reader.size));
    }
    try {
      const index = ix.finish(reader.size);
      // A file that is mostly not MP3 frames (a misnamed file with a few chance sync words) is left to ffmpeg.
      if (index.frames >= 10) {
        source = mp3Source(index);
        if (index.truncated) warnings.push(`the file ends mid-frame, as a cut-short download does: the ${durationText(mp3Duration(index))} that exist were used`);
        if (index.skippedBytes > 4096) warnings.push(`${Math.round(index.skippedBytes / 1024)} KB of damaged or foreign data between audio frames were skipped`);
      }
    } catch {
      // No layer III frames: ffmpeg decides below.
    }
  }
  if (!source) {
    let p: ProbeResult;
    try {
      p = await probe();
    } catch (e) {
      throw new DecodeError(fileName, e instanceof Error && e.message ? e.message : 'not a supported audio format');
    }
    if (!p.durationS || !(p.durationS > 0) || !p.sampleRate) throw new DecodeError(fileName, 'the file holds no audio that could be decoded');
    source = { kind: 'ffmpeg', codec: p.codec, durationS: p.durationS, sampleRate: p.sampleRate, channels: p.channels };
  }
  if (!(source.durationS > 0.5)) throw new DecodeError(fileName, 'the file holds less than half a second of audio');
  if (source.durationS > MAX_EPISODE_S) throw new DecodeError(fileName, `the episode is ${durationText(source.durationS)} long; episodes of up to 3 hours are supported`);
  onProgress?.(1);
  return { source, warnings };
}
