// The studio's state: one session, its transport and meters, the jobs, and every user-facing notice.
import { computePeaks } from '../../dsp/peaks';
import { resample } from '../../dsp/resample';
import { LiveEngine, type EngineHostFactory } from './live-engine';
import { JobSystem, type JobView } from '../../bridge/jobs';

import {
  addTracks,
  deleteSession,
  getCurrentSessionId,
  loadSession,
  loadStoredChannels,
  removeTrack as removeStoredTrack,
  saveSession,
  setCurrentSessionId,
} from '../../storage/sessions';
import { StorageFullError, deleteStoredItem, requestPersistence, storageUsage, type StorageItemKind } from '../../storage/quota';
import { defaultMasterSettings, defaultTrackSettings, type MixSettings } from '../../shared/mix';
import { DEFAULT_SESSION_RATE, PEAKS_PER_SECOND, type LoopRegion, type SessionRecord, type TrackMeta } from '../../shared/session';
import type { MeterSnapshot } from '../../shared/engine-messages';
import type { DecodedAudio, RenderResult } from './contract';
import { decodeWorkers } from './workers';
import { renderSession } from './render-split';
import { errorMessage, isAbortError } from '../../shared/errors';
import { SerialQueue } from '../../shared/serial-queue';

export interface Notice {
  id: number;
  level: 'error' | 'warning' | 'info';
  /** The file or thing it is about. */
  subject?: string;
  message: string;
}

export interface StorageProblem {
  message: string;
  items: { kind: string; id: string; label: string; bytes: number }[];
  usage?: number;
  quota?: number;
}

const SAVE_DEBOUNCE_MS = 250;
const RENDER_DEBOUNCE_MS = 700;

function baseName(fileName: string): string {
  return fileName.replace(/\.[^.]+$/, '') || fileName;
}

/** "stereo", "stereo 2", "stereo 3": several files with one base name stay distinguishable. */
function uniqueName(name: string, taken: string[]): string {
  if (!taken.includes(name)) return name;
  let k = 2;
  while (taken.includes(`${name} ${k}`)) k++;
  return `${name} ${k}`;
}

function newSession(name: string): SessionRecord {
  const now = Date.now();
  return {
    id: crypto.randomUUID(),
    name,
    sampleRate: DEFAULT_SESSION_RATE,
    createdAt: now,
    updatedAt: now,
    tracks: [],
    mix: { tracks: {}, master: defaultMasterSettings() },
    loop: { enabled: false, start: 0, end: 0 },
    playhead: 0,
  };
}

export class Studio {
  session = $state<SessionRecord | null>(null);
  playing = $state(false);
  /** Playhead in seconds. */
  position = $state(0);
  meters = $state.raw<MeterSnapshot | null>(null);
  notices = $state<Notice[]>([]);
  jobs = $state.raw<readonly JobView[]>([]);
  mixRender = $state.raw<Pick<RenderResult, 'peaks' | 'peakDb' | 'rmsDb'> | null>(null);
  storageProblem = $state<StorageProblem | null>(null);
  loading = $state(true);
  persisted = $state<boolean | null>(null);

  readonly jobSystem: JobSystem;
  #engine: LiveEngine | null = null;
  #noticeId = 1;
  #saveTimer: ReturnType<typeof setTimeout> | undefined;
  #renderTimer: ReturnType<typeof setTimeout> | undefined;
  #renderAbort: AbortController | null = null;
  readonly #unsubscribe: () => void;
  readonly #engineHost: EngineHostFactory | undefined;
  #lastMixJson = '';
  #importCounter = 0;
  #importsInFlight = $state(0);

  /** True while files are being imported: the track waveforms wait for the last one, so drawing never competes with the decoders. */
  get importing(): boolean {
    return this.#importsInFlight > 0;
  }
  readonly #importOrder = new Map<string, number>();
  #writes = new SerialQueue();

  constructor(jobSystem: JobSystem = new JobSystem(), opts: { engineHost?: EngineHostFactory } = {}) {
    this.jobSystem = jobSystem;
    this.#engineHost = opts.engineHost;
    this.#unsubscribe = jobSystem.subscribe((jobs) => (this.jobs = jobs));
  }

  /** Stops pending saves and renders, the live engine and every worker. */
  async dispose(): Promise<void> {
    clearTimeout(this.#renderTimer);
    this.#renderAbort?.abort();
    await this.saveNow();
    this.#unsubscribe();
    await this.#closeEngine();
    this.jobSystem.dispose();
  }

  get duration(): number {
    const s = this.session;
    if (!s || s.tracks.length === 0) return 0;
    return Math.max(...s.tracks.map((t) => t.length)) / s.sampleRate;
  }

  get sampleRate(): number {
    return this.session?.sampleRate ?? DEFAULT_SESSION_RATE;
  }

  notify(level: Notice['level'], message: string, subject?: string): void {
    this.notices.push({ id: this.#noticeId++, level, message, subject });
  }

  dismiss(id: number): void {
    this.notices = this.notices.filter((n) => n.id !== id);
  }

  /** Opens the last session, or the demo session on a first visit. */
  async init(demoBaseUrl: string): Promise<void> {
    try {
      void requestPersistence().then((p) => (this.persisted = p));
      const id = await getCurrentSessionId();
      const stored = id ? await loadSession(id) : undefined;
      if (stored) {
        await this.#open(stored);
      } else {
        await this.loadDemo(demoBaseUrl);
      }
    } catch (e) {
      this.#report(e, 'Opening the session');
    } finally {
      this.loading = false;
    }
  }

  async loadDemo(baseUrl: string): Promise<void> {
    const res = await fetch(`${baseUrl}demo/demo.json`);
    if (!res.ok) throw new Error(`The demo session is missing (HTTP ${res.status}).`);
    const manifest = (await res.json()) as { name: string; stems: { file: string; name: string }[] };
    const files = await Promise.all(
      manifest.stems.map(async (s) => {
        const r = await fetch(`${baseUrl}demo/${s.file}`);
        return new File([await r.blob()], s.file, { type: 'audio/wav' });
      }),
    );
    await this.newSession(manifest.name);
    await this.importFiles(files);
  }

  async newSession(name = 'Untitled session'): Promise<void> {
    await this.#closeEngine();
    const s = newSession(name);
    await this.#guardStorage(() => saveSession(s));
    await setCurrentSessionId(s.id);
    this.session = s;
    this.position = 0;
    this.mixRender = null;
    this.#lastMixJson = JSON.stringify(s.mix);
  }

  async #open(rec: SessionRecord): Promise<void> {
    await this.#closeEngine();
    // Older records may lack settings added later; fill them so nothing downstream sees undefined.
    for (const t of rec.tracks) rec.mix.tracks[t.id] ??= defaultTrackSettings();
    this.session = rec;
    this.position = rec.playhead ?? 0;
    this.#lastMixJson = JSON.stringify(rec.mix);
    const engine = this.#ensureEngine();
    await engine.setMix(rec.mix);
    for (const t of rec.tracks) {
      // As stored: 16-bit tracks stay 16-bit in the engine (half the memory, no float copy to make).
      const audio = await loadStoredChannels(rec.id, t.id);
      if (!audio) {
        this.notify('error', 'Its audio is missing from storage; remove the track and import the file again.', t.fileName);
        continue;
      }
      await engine.addTrack(t.id, audio.channels.data);
    }
    await this.#applyLoop();
    this.#scheduleRender(0);
  }

  #ensureEngine(): LiveEngine {
    if (this.#engine) return this.#engine;
    const engine = new LiveEngine(this.sampleRate, this.#engineHost);
    engine.on('position', (frame, playing) => {
      this.position = frame / engine.sampleRate;
      this.playing = playing;
    });
    engine.on('meters', (m) => (this.meters = m));
    engine.on('ended', () => {
      this.playing = false;
      this.position = 0;
    });
    engine.on('error', (message) => this.notify('error', message, 'Playback'));
    this.#engine = engine;
    return engine;
  }

  async #closeEngine(): Promise<void> {
    this.playing = false;
    await this.#engine?.close();
    this.#engine = null;
  }

  /** Imports several files at once; one bad file never stops the others. */
  async importFiles(files: File[]): Promise<void> {
    if (!this.session) await this.newSession();
    const base = this.#importCounter;
    this.#importCounter += files.length;
    this.#importsInFlight += files.length;
    try {
      await Promise.allSettled(files.map((f, i) => this.#importOne(f, base + i)));
    } finally {
      this.#importsInFlight -= files.length;
    }
    this.#scheduleRender();
  }

  async #importOne(file: File, order: number): Promise<void> {
    const session = this.session!;
    let decoded: DecodedAudio;
    try {
      decoded = await this.jobSystem.run(decodeWorkers, {
        label: `Import ${file.name}`,
        task: (api, onProgress) => api.decode(file, file.name, session.sampleRate, onProgress),
      });
    } catch (e) {
      if (isAbortError(e)) return this.notify('info', 'Import cancelled.', file.name);
      const msg = errorMessage(e);
      // Decode errors already read "<file>: <reason>"; keep the file name as the subject either way.
      return this.notify('error', msg.startsWith(`${file.name}: `) ? msg.slice(file.name.length + 2) : msg, file.name);
    }
    for (const w of decoded.warnings) this.notify('warning', w, file.name);
    await this.#addDecoded(session, decoded, file.name, order);
  }

  /**
   * Adds audio made in the app (a generated clip, a separated stem, a rendered MIDI part) as tracks, resampled to the
   * session rate, stored and mixed like any import. With `sessionName`, they go into a new session of that name.
   */
  async addAudio(items: { name: string; channels: Float32Array[]; sampleRate: number }[], opts: { sessionName?: string } = {}): Promise<void> {
    if (opts.sessionName || !this.session) await this.newSession(opts.sessionName);
    const session = this.session!;
    const base = this.#importCounter;
    this.#importCounter += items.length;
    this.#importsInFlight += items.length;
    try {
      for (const [i, item] of items.entries()) {
        const channels = item.sampleRate === session.sampleRate ? item.channels : resample(item.channels, item.sampleRate, session.sampleRate);
        const decoded: DecodedAudio = {
          channels,
          sampleRate: session.sampleRate,
          sourceRate: item.sampleRate,
          decoder: 'app',
          warnings: [],
          peaks: computePeaks(channels, session.sampleRate, PEAKS_PER_SECOND),
        };
        await this.#addDecoded(session, decoded, item.name, base + i);
      }
    } finally {
      this.#importsInFlight -= items.length;
    }
    this.#scheduleRender();
  }

  async #addDecoded(session: SessionRecord, decoded: DecodedAudio, fileName: string, order: number): Promise<void> {
    if (this.session?.id !== session.id) return; // the user switched sessions meanwhile

    const id = crypto.randomUUID();
    const meta: TrackMeta = {
      id,
      name: uniqueName(baseName(fileName), this.session.tracks.map((t) => t.name)),
      fileName: fileName,
      channels: decoded.channels.length === 1 ? 1 : 2,
      length: decoded.channels[0]?.length ?? 0,
      sourceRate: decoded.sourceRate,
      peaks: decoded.peaks ?? computePeaks(decoded.channels, decoded.sampleRate, PEAKS_PER_SECOND),
    };
    // The track appears only once its audio and the session record are stored together, so a
    // reload can never lose a track the user has seen. Writes are queued, so each record includes
    // every track stored before it; tracks keep the order the files were given in.
    this.#importOrder.set(id, order);
    try {
      await this.#enqueueWrite(async () => {
        if (this.session?.id !== session.id) throw new Error('the session was closed before the track was stored');
        const insert = (tracks: TrackMeta[]) => {
          const at = tracks.findIndex((t) => (this.#importOrder.get(t.id) ?? -1) > order);
          if (at < 0) tracks.push(meta);
          else tracks.splice(at, 0, meta);
        };
        // Named here, in write order, so files with one base name still get distinct names.
        meta.name = uniqueName(baseName(fileName), this.session.tracks.map((t) => t.name));
        const next = this.#snapshot();
        insert(next.tracks);
        next.mix.tracks[id] = defaultTrackSettings();
        await this.#guardStorage(() => addTracks(next, [{ sessionId: session.id, trackId: id, sampleRate: decoded.sampleRate, channels: decoded.channels, encoded: decoded.encoded }]));
        insert(this.session.tracks);
        this.session.mix.tracks[id] = defaultTrackSettings();
        this.#lastMixJson = JSON.stringify(this.session.mix);
      });
    } catch (e) {
      this.notify('error', `Not imported: ${errorMessage(e)}`, fileName);
      return;
    }
    const engine = this.#ensureEngine();
    await engine.setMix($state.snapshot(this.session!.mix) as MixSettings);
    await engine.addTrack(id, decoded.channels);
    this.#scheduleRender();
  }

  #dropTrackFromState(id: string): void {
    if (!this.session) return;
    this.session.tracks = this.session.tracks.filter((t) => t.id !== id);
    delete this.session.mix.tracks[id];
  }

  async removeTrack(id: string): Promise<void> {
    const s = this.session;
    if (!s) return;
    const track = s.tracks.find((t) => t.id === id);
    this.#dropTrackFromState(id);
    try {
      await this.#enqueueWrite(async () => {
        await removeStoredTrack(s.id, id);
        await saveSession(this.#snapshot());
      });
    } catch (e) {
      this.#report(e, track?.fileName ?? 'Removing the track');
    }
    await this.#engine?.removeTrack(id);
    this.#scheduleRender();
  }

  /** Called by the UI after any edit of the mix (it is deeply reactive and bound to the controls). */
  mixChanged(mix: MixSettings): void {
    const json = JSON.stringify(mix);
    if (json === this.#lastMixJson) return;
    this.#lastMixJson = json;
    void this.#engine?.setMix(mix);
    this.#scheduleSave();
    this.#scheduleRender();
  }

  async togglePlay(): Promise<void> {
    if (this.playing) return this.pause();
    return this.play();
  }

  async play(): Promise<void> {
    if (!this.session || this.session.tracks.length === 0) return;
    const engine = this.#ensureEngine();
    let from = this.position;
    if (from >= this.duration) from = 0;
    const loop = this.session.loop;
    if (loop.enabled && (from < loop.start || from >= loop.end)) from = loop.start;
    this.playing = true;
    await engine.play(Math.round(from * engine.sampleRate));
  }

  async pause(): Promise<void> {
    this.playing = false;
    await this.#engine?.pause();
    this.#scheduleSave();
  }

  async seek(seconds: number): Promise<void> {
    const t = Math.min(Math.max(0, seconds), this.duration);
    this.position = t;
    if (this.session) this.session.playhead = t;
    await this.#engine?.seek(Math.round(t * this.sampleRate));
    this.#scheduleSave();
  }

  async setLoop(loop: LoopRegion): Promise<void> {
    if (!this.session) return;
    this.session.loop = loop;
    await this.#applyLoop();
    this.#scheduleSave();
  }

  async #applyLoop(): Promise<void> {
    const s = this.session;
    if (!s || !this.#engine) return;
    const region = s.loop.enabled && s.loop.end > s.loop.start ? { start: Math.round(s.loop.start * s.sampleRate), end: Math.round(s.loop.end * s.sampleRate) } : null;
    await this.#engine.setLoop(region);
  }

  rename(name: string): void {
    if (!this.session) return;
    this.session.name = name;
    this.#scheduleSave();
  }

  /** Renders the mix offline with the same DSP as playback, split across both render workers (renderSession). */
  async renderMix(opts: { peaksOnly?: boolean; signal?: AbortSignal; mix?: MixSettings; label?: string } = {}): Promise<RenderResult> {
    const s = this.#snapshot();
    // Another console over the same tracks (e.g. a tournament contestant), named in the job labels.
    if (opts.mix) s.mix = opts.mix;
    if (opts.label) s.name = `${s.name} · ${opts.label}`;
    return renderSession(this.jobSystem, s, opts);
  }

  /** Plays from the start and records what the worklet outputs, for the live-vs-offline null test. */
  async captureLive(frames: number): Promise<{ left: Float32Array; right: Float32Array; latencyFrames: number }> {
    const engine = this.#ensureEngine();
    await engine.setMix($state.snapshot(this.session!.mix) as MixSettings);
    await engine.setLoop(null);
    const c = await engine.captureFromPlay(frames, 0);
    await this.pause();
    await this.#applyLoop();
    return { left: c.left, right: c.right, latencyFrames: engine.latencyFrames };
  }

  #scheduleRender(delay = RENDER_DEBOUNCE_MS): void {
    clearTimeout(this.#renderTimer);
    // During an import the waveform waits for its last file: renders in between would compete with
    // the decoders for the cores and be thrown away (importFiles schedules one at the end).
    if (this.#importsInFlight > 0) return;
    this.#renderTimer = setTimeout(() => void this.#renderWaveform(), delay);
  }

  async #renderWaveform(): Promise<void> {
    this.#renderAbort?.abort();
    if (!this.session || this.session.tracks.length === 0) {
      this.mixRender = null;
      return;
    }
    const ctrl = new AbortController();
    this.#renderAbort = ctrl;
    try {
      const r = await this.renderMix({ peaksOnly: true, signal: ctrl.signal });
      if (this.#renderAbort === ctrl) this.mixRender = { peaks: r.peaks, peakDb: r.peakDb, rmsDb: r.rmsDb };
    } catch (e) {
      if (!isAbortError(e)) this.#report(e, 'Rendering the mix');
    }
  }

  /** Saves soon (debounced): for settings owned by other state classes, e.g. mastering. */
  requestSave(): void {
    this.#scheduleSave();
  }

  #scheduleSave(): void {
    clearTimeout(this.#saveTimer);
    this.#saveTimer = setTimeout(() => void this.saveNow(), SAVE_DEBOUNCE_MS);
  }

  async saveNow(): Promise<void> {
    clearTimeout(this.#saveTimer);
    if (!this.session) return;
    this.session.updatedAt = Date.now();
    try {
      // The snapshot is taken when the write runs, after every write queued before it.
      await this.#enqueueWrite(() => this.#guardStorage(() => saveSession(this.#snapshot())));
    } catch (e) {
      this.#report(e, 'Saving the session');
    }
  }

  /** Session writes run one at a time, in order, so an older snapshot never lands after a newer one. */
  #enqueueWrite<T>(write: () => Promise<T>): Promise<T> {
    return this.#writes.run(write);
  }

  #snapshot(): SessionRecord {
    return $state.snapshot(this.session) as SessionRecord;
  }

  /** A full disk becomes a dialog that shows what uses the space, never a lost session. */
  async #guardStorage<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (e) {
      if (e instanceof StorageFullError || (e instanceof Error && e.name === 'StorageFullError')) await this.openStorageDialog(e.message);
      throw e;
    }
  }

  /** Shows what uses the space, with delete buttons, after a write hit the quota. */
  async openStorageDialog(message: string): Promise<void> {
    const usage = await storageUsage().catch(() => null);
    this.storageProblem = { message, items: usage?.items ?? [], usage: usage?.usage, quota: usage?.quota };
  }

  async refreshStorageUsage(): Promise<void> {
    const usage = await storageUsage();
    this.storageProblem = { message: this.storageProblem?.message ?? 'Storage used by AI Mixer', items: usage.items, usage: usage.usage, quota: usage.quota };
  }

  async deleteStorageItem(kind: string, id: string): Promise<void> {
    try {
      if (kind === 'session') return await this.deleteStoredSession(id);
      if (!isDeletableKind(kind)) return;
      await deleteStoredItem(kind, id);
      await this.refreshStorageUsage();
    } catch (e) {
      this.#report(e, 'Deleting stored data');
    }
  }

  async deleteStoredSession(id: string): Promise<void> {
    await deleteSession(id);
    if (this.session?.id === id) {
      await this.#closeEngine();
      this.session = null;
      await this.newSession();
    }
    await this.refreshStorageUsage();
  }

  #report(e: unknown, subject: string): void {
    this.notify('error', errorMessage(e), subject);
  }
}

function isDeletableKind(kind: string): kind is Exclude<StorageItemKind, 'session'> {
  return kind === 'export' || kind === 'model' || kind === 'votes' || kind === 'feature';
}
