// The model tournament: render the session once per contestant, loudness-match the renders, play
// blind pairs sample-synchronously, unlock the vote once both sides were really heard, store the
// vote, and rate the models (Bradley–Terry) from the local votes and, if sync is on, everyone's.
import type { Studio } from '../studio';
import { VoteSync } from './vote-sync.svelte';
import { AbPlayer, loudnessMatchGains } from '../../bridge/ab-player';
import { modelsFor } from '../../../models/registry';
import { runAutomixModel } from '../automix';
import { applyAutomixOutput, assertAutomixTrackCount } from '../../shared/automix';
import type { TrackFeatures } from '../../shared/features';
import type { MixSettings } from '../../shared/mix';
import type { LoopRegion } from '../../shared/session';
import { analysisWorkers, renderWorkers } from '../studio';
import { MAX_DURATION_MS, parseVote, type ModelRating, type PositionBias, type Vote, type Winner } from '../../shared/votes';
import { CancelledError, errorMessage, isAbortError } from '../../shared/errors';
import { SerialQueue } from '../../shared/serial-queue';
import { leaderboard, positionBias, nextPair, type Comparison } from '../../rating/bradley-terry';
import { loadTrackAudio } from '../../storage/sessions';
import { kvGet, kvPut } from '../../storage/kv';
import { importVotes, listVotes, localClientId, parseVoteFile, saveVote, sessionFingerprint, toVote, type StoredVote } from './vote-store';

/** Each side must have been heard this long before the vote unlocks. */
export const MIN_LISTEN_MS = 5_000;
/** The contestant that plays the session's console as the user set it (unity sums when untouched). */
export const CONSOLE_ID = 'unity';
const STATE_KEY = 'tournament.state';
const TICK_MS = 100;
const SAVE_EVERY_MS = 1_000;
const BOOTSTRAP_ROUNDS = 500;

export interface Contestant {
  id: string;
  version: string;
  label: string;
  kind: 'model' | 'console';
  /** Version and weights in a few words, e.g. "v1.0.0 · int8". */
  detail: string;
  /** What it is, shown (shortened) in the contestant list. */
  about: string;
}

export const CONSOLE_CONTESTANT: Contestant = {
  id: CONSOLE_ID,
  version: '1.0.0',
  label: 'Your console (unity)',
  kind: 'console',
  detail: 'this session',
  about: 'The session’s mix exactly as your faders, pans, EQs and compressors are set now (a plain unity sum if untouched).',
};

export const CONTESTANTS: readonly Contestant[] = [
  ...modelsFor('automix').map(
    (m): Contestant => ({ id: m.id, version: m.version, label: m.label, kind: 'model', detail: `v${m.version} · ${m.dtype === 'none' ? 'no weights' : m.dtype}`, about: m.architecture }),
  ),
  CONSOLE_CONTESTANT,
];

export type Side = 'a' | 'b';

/** The pair being judged: which contestant plays A and which B, and how long each side was heard. */
export interface PendingPair {
  a: string;
  b: string;
  listenedMs: { a: number; b: number };
  /** When both sides first reached MIN_LISTEN_MS (ms since epoch), for the vote's decision time. */
  unlockedAt: number | null;
}

declare module '../../storage/kv' {
  interface KvSchema {
    'tournament.state': SavedTournament;
  }
}

/** What survives a reload (kv 'tournament.state'): the renders are recomputed, everything the user did is kept. */
interface SavedTournament {
  sessionId: string;
  selected: string[];
  active: boolean;
  pair: PendingPair | null;
  loop: LoopRegion;
  open: boolean;
  fingerprint: { key: string; hash: string } | null;
}

interface Rendition {
  id: string;
  left: Float32Array;
  right: Float32Array;
  peaks: Float32Array;
  lufs: number;
  rmsDb: number;
  peakDb: number;
}

/** What each render measured, and the gain that loudness-matches it (for the reveal and for diagnostics). */
export interface RenditionSummary {
  id: string;
  lufs: number;
  rmsDb: number;
  peakDb: number;
  matchGainDb: number;
}

export interface Reveal {
  vote: Vote;
  a: Contestant;
  b: Contestant;
  aLufs: number;
  bLufs: number;
}

export type TournamentPhase = 'setup' | 'rendering' | 'listening' | 'revealed';

const NO_LOOP: LoopRegion = { enabled: false, start: 0, end: 0 };

export function contestant(id: string): Contestant {
  return CONTESTANTS.find((c) => c.id === id) ?? { id, version: '?', label: id, kind: 'model', detail: '', about: 'Not in this app’s registry.' };
}

export class TournamentDesk {
  readonly contestants = CONTESTANTS;
  readonly sync = new VoteSync();
  /** Contestant ids taking part; all by default. */
  selected = $state<string[]>(CONTESTANTS.map((c) => c.id));
  phase = $state<TournamentPhase>('setup');
  /** A tournament was started on this session and not ended (it resumes after a reload). */
  active = $state(false);
  /** What is running, or null. */
  busy = $state<string | null>(null);
  /** 0…1 over all renders, or null while it cannot be known. */
  progress = $state<number | null>(null);
  pair = $state<PendingPair | null>(null);
  /** The side heard now. */
  side = $state<Side>('a');
  playing = $state(false);
  position = $state(0);
  duration = $state(0);
  loop = $state<LoopRegion>({ ...NO_LOOP });
  open = $state(false);
  /** Waveform of the session's render, for choosing the loop (the same for every contestant in time). */
  peaks = $state.raw<Float32Array | null>(null);
  /** The integrated loudness every side plays at. */
  matchedLufs = $state<number | null>(null);
  revealed = $state.raw<Reveal | null>(null);
  votes = $state.raw<StoredVote[]>([]);

  readonly #studio: Studio;
  #sessionId: string | null = null;
  #abort: AbortController | null = null;
  #player: AbPlayer | null = null;
  #renditions = new Map<string, Rendition>();
  #renderedKey = '';
  #gains = new Map<string, number>();
  #fingerprint: { key: string; hash: string } | null = null;
  #clientId: string | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastClock = 0;
  #lastSave = 0;
  #saving = new SerialQueue();

  constructor(studio: Studio) {
    this.#studio = studio;
  }

  get comparisons(): Comparison[] {
    return this.votes.map((v) => ({ a: v.a, b: v.b, winner: v.winner }));
  }

  /** Local Bradley–Terry ratings with 95% bootstrap intervals, best first. */
  readonly board = $derived.by((): ModelRating[] => leaderboard(this.comparisons, { bootstrap: BOOTSTRAP_ROUNDS, seed: 1 }));
  readonly bias = $derived.by((): PositionBias => positionBias(this.comparisons));

  /** The renders of the running tournament, as measured before matching (read on demand; not reactive). */
  get renders(): RenditionSummary[] {
    return this.selected
      .filter((id) => this.#renditions.has(id))
      .map((id) => {
        const r = this.#renditions.get(id)!;
        return { id, lufs: r.lufs, rmsDb: r.rmsDb, peakDb: r.peakDb, matchGainDb: 20 * Math.log10(this.#gains.get(id) ?? 1) };
      });
  }

  get canVote(): boolean {
    const p = this.pair;
    return this.phase === 'listening' && p !== null && p.listenedMs.a >= MIN_LISTEN_MS && p.listenedMs.b >= MIN_LISTEN_MS;
  }

  get canStart(): boolean {
    return this.selected.length >= 2 && !this.busy && (this.#studio.session?.tracks.length ?? 0) > 0;
  }

  /** Once per app start: the local votes, this browser's client id, and sync. */
  async init(): Promise<void> {
    // Listening time is saved every second while playing; this keeps the last second across a reload too.
    window.addEventListener('pagehide', () => {
      this.#account();
      void this.#save();
    });
    try {
      this.#clientId = await localClientId();
      await this.refreshVotes();
      await this.sync.init();
    } catch (e) {
      this.#report(e, 'Tournament');
    }
  }

  async refreshVotes(): Promise<void> {
    this.votes = await listVotes();
  }

  /** Picks up the tournament of the open session (after a reload or a session switch). */
  async load(): Promise<void> {
    const id = this.#studio.session?.id ?? null;
    if (id === this.#sessionId) return;
    this.#abort?.abort();
    this.#stopPlayer();
    this.#sessionId = id;
    this.#renditions.clear();
    this.#renderedKey = '';
    this.peaks = null;
    this.matchedLufs = null;
    this.revealed = null;
    this.phase = 'setup';
    const saved = await kvGet(STATE_KEY).catch(() => undefined);
    if (saved && saved.sessionId === id) {
      const known = new Set(CONTESTANTS.map((c) => c.id));
      this.selected = saved.selected.filter((s) => known.has(s));
      this.active = saved.active;
      this.pair = saved.pair;
      this.loop = saved.loop ?? { ...NO_LOOP };
      this.open = saved.open;
      this.#fingerprint = saved.fingerprint;
    } else {
      this.selected = CONTESTANTS.map((c) => c.id);
      this.active = false;
      this.pair = null;
      this.loop = { ...NO_LOOP };
      this.#fingerprint = null;
    }
  }

  toggleContestant(id: string, on: boolean): void {
    if (this.busy) return;
    const set = new Set(this.selected);
    if (on) set.add(id);
    else set.delete(id);
    this.selected = CONTESTANTS.map((c) => c.id).filter((c) => set.has(c));
    // A pair with a contestant taken out of the tournament is no longer one to judge.
    if (this.pair && (!set.has(this.pair.a) || !set.has(this.pair.b))) this.pair = null;
    void this.#save();
  }

  setOpen(open: boolean): void {
    this.open = open;
    void this.#save();
  }

  cancel(): void {
    this.#abort?.abort();
  }

  /** Stops the running round, the player and the vote sync. */
  dispose(): void {
    this.#abort?.abort();
    clearInterval(this.#timer);
    void this.#player?.close();
    this.#player = null;
    this.sync.dispose();
  }

  /**
   * Renders the session with every selected contestant (in workers, with progress), measures each
   * render's integrated loudness and matches them, then presents a pair: the one left pending
   * before a reload, or a new one.
   */
  async start(): Promise<boolean> {
    const session = this.#studio.session;
    if (!session || this.busy) return false;
    const ctrl = new AbortController();
    this.#abort = ctrl;
    const ids = [...this.selected];
    const trackIds = session.tracks.map((t) => t.id);
    this.phase = 'rendering';
    this.progress = 0;
    try {
      if (ids.length < 2) throw new Error('Choose at least two contestants.');
      assertAutomixTrackCount(trackIds.length);
      await this.#studio.pause();
      this.#stopPlayer();
      const base = $state.snapshot(session.mix) as MixSettings;
      const key = `${session.id}\u0000${trackIds.join()}\u0000${JSON.stringify(base)}`;
      if (key !== this.#renderedKey) {
        this.#renditions.clear();
        this.#renderedKey = key;
      }
      this.busy = 'Fingerprinting the session audio';
      await this.#ensureFingerprint(session.id, trackIds);
      const todo = ids.filter((id) => !this.#renditions.has(id));
      const needsFeatures = todo.some((id) => contestant(id).kind === 'model');
      const features = needsFeatures ? await this.#features(session.id, trackIds, ctrl.signal) : null;
      let done = 0;
      for (const id of todo) {
        const c = contestant(id);
        const step = `${done + 1}/${todo.length}`;
        try {
          let mix = base;
          if (c.kind === 'model') {
            this.busy = `Running ${c.label} (${step})`;
            // In the ml worker, like Auto-mix: neural models load and run off the main thread.
            const { output: out } = await runAutomixModel(this.#studio.jobSystem, id, c.label, { tracks: trackIds.map((t) => ({ features: features![t] })) }, { signal: ctrl.signal });
            if (ctrl.signal.aborted) throw new CancelledError();
            mix = applyAutomixOutput(base, trackIds, out);
          }
          this.busy = `Rendering ${c.label} (${step})`;
          const r = await this.#studio.renderMix({ mix, signal: ctrl.signal, label: c.label });
          this.busy = `Measuring ${c.label} (${step})`;
          const loudness = await this.#studio.jobSystem.run(renderWorkers, {
            label: `Measure loudness of ${c.label}`,
            signal: ctrl.signal,
            task: (api) => api.measure(r.left, r.right, r.sampleRate),
          });
          this.#renditions.set(id, { id, left: r.left, right: r.right, peaks: r.peaks, lufs: loudness.integratedLufs, rmsDb: r.rmsDb, peakDb: r.peakDb });
        } catch (e) {
          if (isAbortError(e)) throw e;
          // One model that cannot run here (e.g. its weights are unavailable offline) leaves the others their tournament.
          this.#studio.notify('warning', `Left out of this tournament: ${errorMessage(e)}`, c.label);
        }
        done++;
        this.progress = done / todo.length;
      }
      if (this.#studio.session?.id !== session.id) throw new CancelledError();
      const playing = ids.filter((id) => this.#renditions.has(id));
      if (playing.length < 2) throw new Error(`Only ${playing.length} of the ${ids.length} contestants could be rendered; a tournament needs two.`);
      // Every render plays at the quietest one's loudness: attenuation only, so nothing clips, and louder can't win.
      const renders = playing.map((id) => this.#renditions.get(id)!);
      const gains = loudnessMatchGains(renders.map((r) => r.lufs));
      this.#gains = new Map(renders.map((r, i) => [r.id, gains[i]]));
      const finite = renders.map((r) => r.lufs).filter(Number.isFinite);
      this.matchedLufs = finite.length ? Math.min(...finite) : null;
      this.peaks = renders[0].peaks;
      this.duration = renders[0].left.length / session.sampleRate;
      this.active = true;
      const p = this.pair;
      if (!p || !playing.includes(p.a) || !playing.includes(p.b)) this.#newPair();
      this.#loadPair();
      this.phase = 'listening';
      await this.#save();
      return true;
    } catch (e) {
      this.phase = 'setup';
      if (isAbortError(e)) this.#studio.notify('info', 'Rendering cancelled.', 'Tournament');
      else this.#report(e, 'Tournament');
      return false;
    } finally {
      if (this.#abort === ctrl) this.#abort = null;
      this.busy = null;
      this.progress = null;
    }
  }

  /** Ends the tournament on this session; votes stay. */
  async end(): Promise<void> {
    this.#abort?.abort();
    this.#stopPlayer();
    this.active = false;
    this.pair = null;
    this.revealed = null;
    this.phase = 'setup';
    await this.#save();
  }

  async togglePlay(): Promise<void> {
    const p = this.#player;
    if (!p || this.phase === 'rendering') return;
    if (p.playing) return this.pause();
    await this.#studio.pause();
    const loop = this.loop;
    let from = p.position;
    if (from >= this.duration - 0.05) from = 0;
    if (loop.enabled && loop.end > loop.start && (from < loop.start || from >= loop.end)) from = loop.start;
    await p.play(from);
    this.#lastClock = p.clock;
    this.playing = true;
    clearInterval(this.#timer);
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
  }

  pause(): void {
    this.#account();
    this.#player?.pause();
    clearInterval(this.#timer);
    this.playing = false;
    void this.#save();
  }

  /** Switches A↔B: a crossfade on sources that keep running, so the playhead never moves. */
  select(side: Side): void {
    if (!this.#player) return;
    this.#account();
    this.side = side;
    this.#player.select(side === 'a' ? 0 : 1);
  }

  /** Key 1 / 2: switch to that side, starting playback if it is stopped. */
  async listen(side: Side): Promise<void> {
    this.select(side);
    if (!this.playing) await this.togglePlay();
  }

  seek(seconds: number): void {
    if (!this.#player) return;
    this.#account();
    this.#player.seek(seconds);
    this.position = this.#player.position;
  }

  setLoop(loop: LoopRegion): void {
    this.loop = loop;
    this.#player?.setLoop(loop.enabled && loop.end > loop.start ? { start: loop.start, end: loop.end } : null);
    void this.#save();
  }

  /** Stores the vote (every field of Vote), reveals the names, and hands the vote to sync. */
  async vote(winner: Winner): Promise<Vote | null> {
    const p = this.pair;
    if (!p || !this.canVote) return null;
    this.#account();
    try {
      const a = contestant(p.a);
      const b = contestant(p.b);
      const now = Date.now();
      const vote = parseVote({
        id: crypto.randomUUID(),
        a: a.id,
        aVersion: a.version,
        b: b.id,
        bVersion: b.version,
        winner,
        client: this.#clientId ?? (this.#clientId = await localClientId()),
        ts: now,
        session: this.#fingerprint?.hash,
        listenMs: { a: Math.round(Math.min(p.listenedMs.a, MAX_DURATION_MS)), b: Math.round(Math.min(p.listenedMs.b, MAX_DURATION_MS)) },
        decideMs: Math.round(Math.min(MAX_DURATION_MS, Math.max(0, now - (p.unlockedAt ?? now)))),
      });
      await saveVote(vote);
      this.pause();
      this.revealed = { vote, a, b, aLufs: this.#renditions.get(a.id)?.lufs ?? NaN, bLufs: this.#renditions.get(b.id)?.lufs ?? NaN };
      this.pair = null;
      this.phase = 'revealed';
      await this.#save();
      await this.refreshVotes();
      void this.sync.voteAdded();
      return vote;
    } catch (e) {
      this.#report(e, 'Saving the vote');
      return null;
    }
  }

  /** After the reveal: the next blind pair. */
  next(): void {
    if (this.phase !== 'revealed' || this.#renditions.size < 2) return;
    this.revealed = null;
    this.#newPair();
    this.#loadPair();
    this.phase = 'listening';
    void this.#save();
  }

  /** Every local vote as a JSON file body in the protocol's batch shape (`{"votes":[…]}`), plus its name. */
  exportJson(): { name: string; json: string; count: number } {
    const votes = this.votes.map(toVote);
    const day = new Date().toISOString().slice(0, 10);
    return { name: `ai-mixer-votes-${day}.json`, json: JSON.stringify({ votes }, null, 1), count: votes.length };
  }

  /** Imports votes from an export file: validated, duplicates (by id) skipped, errors name the file. */
  async importFile(file: File): Promise<{ added: number; duplicates: number } | null> {
    try {
      let body: unknown;
      try {
        body = JSON.parse(await file.text());
      } catch (e) {
        throw new Error(`${file.name} is not JSON (${errorMessage(e)}); choose a votes file exported by AI Mixer.`);
      }
      const votes = parseVoteFile(body, file.name);
      const result = await importVotes(votes);
      await this.refreshVotes();
      this.#studio.notify(
        'info',
        `Imported ${result.added} vote${result.added === 1 ? '' : 's'}${result.duplicates ? `; ${result.duplicates} already here, skipped` : ''}.`,
        file.name,
      );
      if (result.added) void this.sync.voteAdded();
      return result;
    } catch (e) {
      this.#studio.notify('error', errorMessage(e), file.name);
      return null;
    }
  }

  #newPair(): void {
    const ids = this.selected.filter((id) => this.#renditions.has(id));
    const [x, y] = nextPair(ids, this.comparisons, Math.random);
    // Sides are drawn here, per pair, whatever order the scheduler returned.
    const [a, b] = Math.random() < 0.5 ? [x, y] : [y, x];
    this.pair = { a, b, listenedMs: { a: 0, b: 0 }, unlockedAt: null };
    this.side = 'a';
  }

  #loadPair(): void {
    const p = this.pair;
    if (!p) return;
    const ra = this.#renditions.get(p.a)!;
    const rb = this.#renditions.get(p.b)!;
    this.#stopPlayer();
    this.#player ??= new AbPlayer(this.#studio.sampleRate);
    this.#player.setSources([
      { left: ra.left, right: ra.right, gain: this.#gains.get(p.a) ?? 1 },
      { left: rb.left, right: rb.right, gain: this.#gains.get(p.b) ?? 1 },
    ]);
    this.#player.setLoop(this.loop.enabled && this.loop.end > this.loop.start ? { start: this.loop.start, end: this.loop.end } : null);
    this.#player.select(this.side === 'a' ? 0 : 1);
    this.#player.seek(this.loop.enabled ? this.loop.start : 0);
    this.position = this.#player.position;
  }

  /** Adds the audio-clock time since the last call to the side heard now. */
  #account(): void {
    const player = this.#player;
    const p = this.pair;
    if (!player || !p) return;
    const now = player.clock;
    const dt = now - this.#lastClock;
    this.#lastClock = now;
    if (!this.playing || !player.playing || !(dt > 0) || dt > 1) return;
    p.listenedMs[this.side] += dt * 1000;
    if (p.unlockedAt === null && p.listenedMs.a >= MIN_LISTEN_MS && p.listenedMs.b >= MIN_LISTEN_MS) p.unlockedAt = Date.now();
  }

  #tick(): void {
    const player = this.#player;
    if (!player) return;
    this.#account();
    this.position = player.position;
    // The studio's transport took over, or the render ran out (no loop): stop counting.
    if (!player.playing || this.#studio.playing) {
      if (player.playing) player.pause();
      clearInterval(this.#timer);
      this.playing = false;
      void this.#save();
      return;
    }
    if (Date.now() - this.#lastSave > SAVE_EVERY_MS) void this.#save();
  }

  #stopPlayer(): void {
    clearInterval(this.#timer);
    this.#player?.stop();
    this.playing = false;
    this.position = 0;
  }

  async #ensureFingerprint(sessionId: string, trackIds: string[]): Promise<string> {
    const key = `${sessionId}:${[...trackIds].sort().join(',')}`;
    if (this.#fingerprint?.key === key) return this.#fingerprint.hash;
    const tracks: Float32Array[][] = [];
    for (const id of trackIds) {
      const audio = await loadTrackAudio(sessionId, id);
      if (!audio) throw new Error(`The audio of track ${this.#studio.session?.tracks.find((t) => t.id === id)?.fileName ?? id} is missing from storage; import it again.`);
      tracks.push(audio.channels);
    }
    const hash = await sessionFingerprint(tracks);
    this.#fingerprint = { key, hash };
    return hash;
  }

  /** Track features: from the session record when cached there, else one analysis job (then cached). */
  async #features(sessionId: string, trackIds: string[], signal: AbortSignal): Promise<Record<string, TrackFeatures>> {
    const session = this.#studio.session!;
    const cached = (session.features ?? {}) as Record<string, TrackFeatures>;
    const missing = trackIds.filter((id) => !cached[id]);
    if (missing.length === 0) return Object.fromEntries(trackIds.map((id) => [id, $state.snapshot(cached[id]) as TrackFeatures]));
    this.busy = `Analysing ${missing.length} track${missing.length === 1 ? '' : 's'}`;
    const computed = await this.#studio.jobSystem.run(analysisWorkers, {
      label: `Analyse ${missing.length} track${missing.length === 1 ? '' : 's'} for the tournament`,
      signal,
      task: (api, onProgress) => api.analyseTracks({ sessionId, trackIds: missing }, onProgress),
    });
    const all: Record<string, TrackFeatures> = {};
    for (const id of trackIds) {
      const f = computed[id] ?? (cached[id] ? ($state.snapshot(cached[id]) as TrackFeatures) : undefined);
      if (!f) throw new Error(`The analysis returned no features for track ${id}.`);
      all[id] = f;
    }
    // Cached with the session, as auto-mix does, so neither analyses these tracks again.
    const current = this.#studio.session;
    if (current?.id === sessionId) {
      const ids = new Set(current.tracks.map((t) => t.id));
      current.features = Object.fromEntries(Object.entries({ ...(current.features ?? {}), ...all }).filter(([id]) => ids.has(id)));
      this.#studio.requestSave();
    }
    return all;
  }

  /** Writes what a reload must bring back; writes run in order so an older state never lands last. */
  #save(): Promise<unknown> {
    this.#lastSave = Date.now();
    const id = this.#sessionId;
    if (!id) return Promise.resolve();
    const state: SavedTournament = {
      sessionId: id,
      selected: [...this.selected],
      active: this.active,
      pair: this.pair ? ($state.snapshot(this.pair) as PendingPair) : null,
      loop: $state.snapshot(this.loop) as LoopRegion,
      open: this.open,
      fingerprint: this.#fingerprint,
    };
    return this.#saving.run(() => kvPut(STATE_KEY, state).catch((e: unknown) => this.#report(e, 'Saving the tournament')));
  }

  #report(e: unknown, subject: string): void {
    this.#studio.notify('error', errorMessage(e), subject);
  }
}
