// An MP3 made on encoder workers: a long master as two overlapping halves at once (one per core), spliced
// frame-exactly (src/media/mp3-splice.ts). Each worker gets copies of its range and makes the 16-bit PCM it encodes.
import { transfer } from 'comlink';
import { planarRange } from '../dsp/pcm16';
import { encodeMp3InHalves } from '../media/mp3-splice';
import type { ExportTags } from '../shared/export';
import type { ProgressCallback } from '../shared/jobs';
import type { JobSystem, WorkerHandle } from './jobs';

/** What an MP3 encoder worker offers (mastering's export worker and the podcast worker both do). */
export interface Mp3EncoderApi {
  encodeMp3(channels: Float32Array[], sampleRate: number, tags: ExportTags, onProgress: ProgressCallback): Promise<Uint8Array | { bytes: Uint8Array }>;
}

/** Which part of the master a job encodes, for its label. */
export type Mp3Part = 'whole' | 'first half' | 'second half';

/** Encodes `channels` (1 or 2, equal lengths) as one MP3; only the first part carries the tags. */
export function encodeMp3OnWorkers(
  jobs: JobSystem,
  handle: WorkerHandle<Mp3EncoderApi>,
  channels: Float32Array[],
  sampleRate: number,
  tags: ExportTags,
  opts: { signal: AbortSignal; label: (part: Mp3Part) => string },
): Promise<Uint8Array> {
  const n = channels[0].length;
  return encodeMp3InHalves(n, sampleRate, async (from, to, first) => {
    const out = await jobs.run<Mp3EncoderApi, Uint8Array | { bytes: Uint8Array }>(handle, {
      label: opts.label(to - from < n ? (first ? 'first half' : 'second half') : 'whole'),
      signal: opts.signal,
      task: (api, onProgress) => {
        const range = planarRange(channels, from, to);
        return api.encodeMp3(transfer(range, range.map((c) => c.buffer)), sampleRate, first ? tags : {}, onProgress);
      },
    });
    return out instanceof Uint8Array ? out : out.bytes;
  });
}
