// A session's offline render split across the two render workers: one streams its half of the tracks to the other,
// which adds its own half and runs the master bus as the pieces arrive (renderMasterStreamed).
import { transfer, type Remote } from 'comlink';
import type { JobSystem } from '../../bridge/jobs';
import type { ProgressCallback } from '../../shared/jobs';
import type { SessionRecord, TrackMeta } from '../../shared/session';
import type { RenderResult, RenderWorkerApi } from './contract';
import { renderWorkers } from './workers';

/** Two groups of track ids of about equal samples: renderMix's halves, in the order its jobs take the render workers. */
export function splitByWork(tracks: TrackMeta[]): [string[], string[]] {
  const groups: [string[], string[]] = [[], []];
  const load = [0, 0];
  for (const t of [...tracks].sort((x, y) => y.length * y.channels - x.length * x.channels)) {
    const k = load[0] <= load[1] ? 0 : 1;
    groups[k].push(t.id);
    load[k] += t.length * t.channels;
  }
  return groups;
}

/** Renders a session (its tracks as stored, the given mix) on the render workers; cancelled by `signal`. */
export async function renderSession(jobs: JobSystem, s: SessionRecord, opts: { peaksOnly?: boolean; signal?: AbortSignal } = {}): Promise<RenderResult> {
  const base = { sessionId: s.id, sampleRate: s.sampleRate, mix: s.mix };
  const run = (label: string, task: (api: Remote<RenderWorkerApi>, onProgress: ProgressCallback) => Promise<RenderResult>) =>
    jobs.run(renderWorkers, { label, signal: opts.signal, task });
  if (s.tracks.length < 2) {
    return run(`Render mix of ${s.name}`, (api, p) => api.renderMix({ ...base, trackIds: s.tracks.map((t) => t.id), peaksOnly: opts.peaksOnly }, p));
  }
  const end = Math.max(...s.tracks.map((t) => t.length));
  const [own, other] = splitByWork(s.tracks);
  // One worker renders its half of the tracks and streams the sum, piece by piece, to the other, which adds it to its
  // own half and runs the master bus meanwhile. The reader is queued only once the streaming half runs, so a reader
  // never holds a worker that its own stream is waiting for (two renders at once, say).
  const { port1, port2 } = new MessageChannel();
  const pair = new AbortController();
  const stop = () => pair.abort();
  opts.signal?.addEventListener('abort', stop, { once: true });
  const job = (label: string, task: (api: Remote<RenderWorkerApi>, onProgress: ProgressCallback) => Promise<RenderResult>) =>
    jobs.run(renderWorkers, { label, signal: pair.signal, task });
  try {
    let running!: () => void;
    const streaming = new Promise<void>((resolve) => (running = resolve));
    const streamed = job(`Render tracks 2/2 of ${s.name}`, (api, p) => {
      running();
      return api.renderMix(transfer({ ...base, trackIds: other, part: 'tracks', endFrame: end, stream: port1 }, [port1]), p);
    });
    // A failed half leaves the other waiting for pieces that never come: stop both. (If the streaming half never
    // starts, the reader is never queued, and its failure alone settles the render.)
    streamed.catch(stop);
    const mixed = streaming.then(() =>
      job(`Render tracks 1/2 and the master bus of ${s.name}`, (api, p) =>
        api.renderMasterStreamed(transfer({ ...base, trackIds: own, endFrame: end, peaksOnly: opts.peaksOnly, from: port2 }, [port2]), p),
      ),
    );
    mixed.catch(stop);
    const [result] = await Promise.all([mixed, streamed]);
    return result;
  } finally {
    opts.signal?.removeEventListener('abort', stop);
  }
}
