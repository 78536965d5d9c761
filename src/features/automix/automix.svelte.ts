// Auto-mix: analyse the tracks (once each), run the chosen model, apply its proposal as ordinary
// editable console settings, show what changed, and keep one step of undo.
import { proxy } from 'comlink';
import { splitByWork, type Studio } from '../studio';
import { modelMeta, modelsFor, type RegisteredModel } from '../../../models/registry';
import { runAutomixModel } from './ml-job';
import { applyAutomixOutput, assertAutomixTrackCount, automixChanges, type AutomixRuntimeInfo, type AutomixTrackChange } from '../../shared/automix';
import type { TrackFeatures } from '../../shared/features';
import type { JobProgress } from '../../shared/jobs';
import type { MixSettings } from '../../shared/mix';
import { renderWorkers } from '../studio';
import { CancelledError, errorMessage, isAbortError } from '../../shared/errors';

export interface AutomixChangeRow extends AutomixTrackChange {
  name: string;
}

const DEFAULT_MODEL = 'equal-loudness';

export class AutoMixDesk {
  readonly models: readonly RegisteredModel<'automix'>[] = modelsFor('automix');
  modelId = $state(DEFAULT_MODEL);
  /** What is running ('Analysing tracks', 'Running …'), or null when idle. */
  busy = $state<string | null>(null);
  progress = $state.raw<JobProgress | null>(null);
  /** Where the last neural model ran (WebGPU or WASM, and why); null for non-neural models. */
  runtime = $state.raw<(AutomixRuntimeInfo & { modelId: string }) | null>(null);
  /** Seconds spent by the last run: analysing tracks not yet analysed, then the model in its worker. */
  lastTimings = $state.raw<{ analysis_s: number; model_s: number; inference_s: number | null } | null>(null);

  readonly #studio: Studio;
  /** Features by track id: a track's audio never changes, so they never go stale. */
  readonly #features = new Map<string, TrackFeatures>();
  #undo = $state.raw<{ sessionId: string; mix: MixSettings } | null>(null);
  #applied = $state.raw<{ sessionId: string; modelId: string; rows: AutomixChangeRow[] } | null>(null);
  #abort: AbortController | null = null;

  constructor(studio: Studio) {
    this.#studio = studio;
  }

  get meta(): RegisteredModel<'automix'> {
    return modelMeta(this.modelId, 'automix');
  }

  /** Per track, before → after, of the last auto-mix of this session; empty until one ran. */
  get changes(): AutomixChangeRow[] {
    return this.#applied?.sessionId === this.#studio.session?.id ? this.#applied!.rows : [];
  }

  /** The model whose proposal is applied now, for the "what changed" caption. */
  get appliedModelId(): string | null {
    return this.#applied?.sessionId === this.#studio.session?.id ? this.#applied!.modelId : null;
  }

  get canUndo(): boolean {
    return this.#undo !== null && this.#undo.sessionId === this.#studio.session?.id;
  }

  cancel(): void {
    this.#abort?.abort();
  }

  /** Stops the running auto-mix. */
  dispose(): void {
    this.#abort?.abort();
  }

  /** Analyses what is not cached, runs the model and applies its proposal; false if it did not. */
  async run(): Promise<boolean> {
    const session = this.#studio.session;
    if (!session || this.busy) return false;
    const ctrl = new AbortController();
    this.#abort = ctrl;
    const modelId = this.modelId;
    const trackIds = session.tracks.map((t) => t.id);
    try {
      assertAutomixTrackCount(trackIds.length);
      const t0 = performance.now();
      const features = await this.#analyse(session.id, trackIds, ctrl.signal);
      const t1 = performance.now();
      this.busy = `Running ${modelMeta(modelId, 'automix').label}`;
      this.progress = { fraction: null, stage: 'inference' };
      const meta = modelMeta(modelId, 'automix');
      const { output: out, runtime } = await runAutomixModel(this.#studio.jobSystem, modelId, meta.label, { tracks: trackIds.map((id) => ({ features: features[id] })) }, {
        signal: ctrl.signal,
        onProgress: (p) => (this.progress = p),
      });
      this.runtime = runtime ? { ...runtime, modelId } : null;
      this.lastTimings = { analysis_s: (t1 - t0) / 1000, model_s: (performance.now() - t1) / 1000, inference_s: runtime ? runtime.inferenceMs / 1000 : null };
      if (runtime?.fetchEvents.includes('cache-corrupt')) {
        this.#studio.notify('warning', `The cached weights of ${meta.label} were damaged; they were downloaded again.`, 'Auto-mix');
      }
      if (runtime?.ep === 'wasm' && runtime.selfCheckDiff !== null && runtime.fallbackReason) {
        this.#studio.notify('warning', `${meta.label}: ${runtime.fallbackReason}`, 'Auto-mix');
      }
      const current = this.#studio.session;
      if (ctrl.signal.aborted) throw new CancelledError();
      // The user switched sessions or changed the tracks meanwhile: the proposal no longer fits.
      if (current?.id !== session.id || current.tracks.map((t) => t.id).join() !== trackIds.join()) throw new CancelledError();
      const before = $state.snapshot(current.mix) as MixSettings;
      const after = applyAutomixOutput(before, trackIds, out);
      this.#undo = { sessionId: current.id, mix: before };
      current.mix = after;
      const names = new Map(current.tracks.map((t) => [t.id, t.name]));
      const rows = automixChanges(before, after, trackIds).map((c) => ({ ...c, name: names.get(c.trackId) ?? c.trackId }));
      this.#applied = { sessionId: current.id, modelId, rows };
      return true;
    } catch (e) {
      if (isAbortError(e)) this.#studio.notify('info', 'Auto-mix cancelled.', 'Auto-mix');
      else this.#studio.notify('error', errorMessage(e), 'Auto-mix');
      return false;
    } finally {
      if (this.#abort === ctrl) this.#abort = null;
      this.busy = null;
      this.progress = null;
    }
  }

  /** Puts every fader, pan, EQ and compressor back as it was before the last auto-mix. */
  undo(): void {
    const session = this.#studio.session;
    const snap = this.#undo;
    if (!session || !snap || snap.sessionId !== session.id) return;
    // Tracks imported after the auto-mix keep their settings; removed ones stay removed.
    const tracks = { ...($state.snapshot(session.mix.tracks) as MixSettings['tracks']) };
    for (const id of Object.keys(tracks)) if (snap.mix.tracks[id]) tracks[id] = snap.mix.tracks[id];
    session.mix = { tracks, master: snap.mix.master };
    this.#undo = null;
    this.#applied = null;
  }

  /** Features of every track: from memory, then the session record, then one analysis job for the rest. */
  async #analyse(sessionId: string, trackIds: string[], signal: AbortSignal): Promise<Record<string, TrackFeatures>> {
    const session = this.#studio.session!;
    for (const [id, f] of Object.entries(session.features ?? {})) if (!this.#features.has(id)) this.#features.set(id, $state.snapshot(f) as TrackFeatures);
    const missing = trackIds.filter((id) => !this.#features.has(id));
    if (missing.length) {
      this.busy = `Analysing ${missing.length} track${missing.length === 1 ? '' : 's'}`;
      this.progress = { fraction: 0, stage: 'analysis' };
      // Two render workers, with renderMix's halves in its order: each worker takes the same half it rendered (the first
      // free worker takes the first job), and it keeps that audio in memory, so it reads nothing back. Any track it does
      // not hold it reads from IndexedDB.
      const wanted = new Set(missing);
      const parts = splitByWork(session.tracks)
        .map((half) => half.filter((id) => wanted.has(id)))
        .filter((p) => p.length);
      const fractions = parts.map(() => 0);
      // One failing half stops the other: the analysis as a whole has failed.
      const both = new AbortController();
      const stop = () => both.abort();
      signal.addEventListener('abort', stop, { once: true });
      const results = await Promise.all(
        parts.map((ids, k) =>
          this.#studio.jobSystem.run(renderWorkers, {
            label: `Analyse ${ids.length} track${ids.length === 1 ? '' : 's'} for auto-mix`,
            signal: both.signal,
            // The job list follows each worker; this panel follows their weighted sum.
            task: (api, onProgress) =>
              api.analyseTracks(
                { sessionId, trackIds: ids },
                proxy((p: JobProgress) => {
                  onProgress(p);
                  fractions[k] = (p.fraction ?? 0) * ids.length;
                  this.progress = { fraction: fractions.reduce((a, b) => a + b, 0) / missing.length, stage: p.stage };
                }),
              ),
          }),
        ),
      ).finally(() => {
        signal.removeEventListener('abort', stop);
        stop();
      });
      const computed: Record<string, TrackFeatures> = Object.assign({}, ...results);
      for (const id of missing) {
        if (!computed[id]) throw new Error(`The analysis returned no features for track ${id}.`);
        this.#features.set(id, computed[id]);
      }
      // Cache with the session (only its current tracks) so a reload does not analyse again.
      const current = this.#studio.session;
      if (current?.id === sessionId) {
        const ids = new Set(current.tracks.map((t) => t.id));
        current.features = Object.fromEntries([...this.#features].filter(([id]) => ids.has(id)));
        this.#studio.requestSave();
      }
    }
    return Object.fromEntries(trackIds.map((id) => [id, this.#features.get(id)!]));
  }
}
