// The podcast best-of: open an episode (file or URL), analyse it in workers, pick a theme and a length,
// edit the reel, master it for podcast loudness and export an MP3 with Podcasting 2.0 chapters.
// Everything the user did survives a reload: the episode file, its analysis and the reel are in IndexedDB.
import { proxy, transfer } from 'comlink';
import { canDecodeOnPage, pageSliceDecoder } from './page-decode';
import type { Studio } from '../studio';
import type { PodcastWorkerApi, ReelAudio } from './contract';
import type { DescribedEpisode } from './describe';
import type { ChunkAnalysis, EpisodeAnalysis } from './episode';
import { chunkQueue, planChunks } from './analyse';
import { snapCut, type EpisodeStructure } from './segments';
import { addClip, refit, removeClip, selectReel, setClipBounds, swapClip, type ReelPlan } from './select';
import { reelChapters } from './chapters';
import { THEMES, type ThemeId } from './themes';
import { LEVEL_HOP_S } from './features';
import { podcastMasterWorkers, podcastReelWorkers, podcastWorkers } from './workers';
import { defaultMasteringSettings, type LoudnessReport, type MasteringSettings } from '../../shared/mastering';
import type { ProgressCallback } from '../../shared/jobs';
import { errorMessage, isAbortError } from '../../shared/errors';
import { SerialQueue } from '../../shared/serial-queue';
import { mp3Encoders } from '../../media/mp3-splice';
import { runExportLoop } from '../../media/export-loop';
import { encodeMp3OnWorkers } from '../../bridge/mp3-encode';
import { clearPodcast, loadPodcast, saveAnalysis, saveEpisode, saveReel, PODCAST_STORE_VERSION, type StoredClipFile } from './podcast-store';
import { saveExport, listExports, deleteExport } from '../../storage/exports';
import type { ExportRecord } from '../../storage/schema';

import { HOST_REFUSED } from './messages';

export type ReelLayout = 'stereo' | 'mono';
/** Podcast loudness: −16 LUFS for stereo, −19 LUFS for mono, under −1 dBTP. */
export const PODCAST_TARGET_LUFS: Record<ReelLayout, number> = { stereo: -16, mono: -19 };
export const PODCAST_CEILING_DBTP = -1;
const RERENDER_DEBOUNCE_MS = 250;

/**
 * The mastering chain's settings for speech: a low-shelf cut of rumble and proximity boom, less mud at 250 Hz,
 * presence at 3.5 kHz and a little air, then a 3:1 voice compressor; the limiter holds −1 dBTP.
 */
export function podcastMasteringSettings(targetLufs: number): MasteringSettings {
  const s = defaultMasteringSettings('podcast');
  s.targetLufs = targetLufs;
  s.ceilingDbtp = PODCAST_CEILING_DBTP;
  s.eqEnabled = true;
  s.eq = [
    { type: 'lowshelf', freq: 90, gainDb: -4, q: 0.707 },
    { type: 'peaking', freq: 250, gainDb: -2, q: 1 },
    { type: 'peaking', freq: 3500, gainDb: 2.5, q: 0.9 },
    { type: 'highshelf', freq: 10000, gainDb: 1.5, q: 0.707 },
  ];
  s.comp = { enabled: true, thresholdDb: -22, ratio: 3, attackMs: 8, releaseMs: 160, kneeDb: 6, makeupDb: 0 };
  return s;
}

export interface EpisodeView {
  id: string;
  name: string;
  size: number;
  durationS: number;
  kind: string;
  sampleRate: number;
  channels: number;
  warnings: string[];
}

export interface PodcastExport {
  id: string;
  name: string;
  url: string;
  bytes: number;
  layout: ReelLayout;
  targetLufs: number;
  lufs: number;
  truePeakDb: number;
  withinSpec: boolean;
  passes: number;
  chaptersName: string;
  chaptersUrl: string;
}

export interface PodcastTimings {
  read_s?: number;
  analyse_s?: number;
  assemble_s?: number;
  select_s?: number;
  render_s?: number;
  master_s?: number;
  encode_s?: number;
  verify_s?: number;
  decode_cpu_s?: number;
  features_cpu_s?: number;
  vad_cpu_s?: number;
  vad_model_frames?: number;
  vad_frames?: number;
  page_decoded_chunks?: number;
  ffmpeg_decoded_chunks?: number;
}

function fileTitle(name: string): string {
  return name.replace(/\.[^.]+$/, '') || name;
}

function safeName(s: string): string {
  return s.replace(/[\\/:*?"<>|]+/g, '_');
}

/** Overview peaks (min/max pairs at `perSecond`) from the 10 ms level contour, for a long episode's waveform. */
export function overviewPeaks(levelDb: Float32Array, perSecond: number): Float32Array {
  const per = Math.max(1, Math.round(1 / LEVEL_HOP_S / perSecond));
  const bins = Math.ceil(levelDb.length / per);
  const out = new Float32Array(2 * bins);
  for (let b = 0; b < bins; b++) {
    let max = -120;
    for (let i = b * per; i < Math.min(levelDb.length, (b + 1) * per); i++) max = Math.max(max, levelDb[i]);
    // RMS of a 10 ms frame, shown as a peak: √2 × RMS is a sine's peak.
    const a = Math.min(1, Math.SQRT2 * Math.pow(10, max / 20));
    out[2 * b] = -a;
    out[2 * b + 1] = a;
  }
  return out;
}

export class PodcastDesk {
  /** MP3 slices (analysis chunks and reel clips) are decoded by the page's decodeAudioData (see src/bridge/page-decode.ts); false: all in ffmpeg.wasm. */
  pageDecode = true;
  /** Longest chunk the page decoder gets (seconds). */
  pageChunkS = 300;
  episode = $state.raw<EpisodeView | null>(null);
  analysis = $state.raw<EpisodeAnalysis | null>(null);
  structure = $state.raw<EpisodeStructure | null>(null);
  overview = $state.raw<{ peaks: Float32Array; perSecond: number } | null>(null);
  themeId = $state<ThemeId>('best-of');
  targetS = $state(90);
  layout = $state<ReelLayout>('stereo');
  plan = $state.raw<ReelPlan | null>(null);
  reel = $state.raw<{ peaks: Float32Array; durationS: number; rate: number; channels: number } | null>(null);
  intro = $state.raw<StoredClipFile | null>(null);
  outro = $state.raw<StoredClipFile | null>(null);
  busy = $state<string | null>(null);
  progress = $state.raw<{ fraction: number | null; stage?: string } | null>(null);
  exported = $state.raw<PodcastExport | null>(null);
  exports = $state.raw<ExportRecord[]>([]);
  timings = $state.raw<PodcastTimings>({});
  /** The last failure, shown in the panel next to what failed (also sent to the notices). */
  error = $state<string | null>(null);
  restoring = $state(true);

  readonly themes = THEMES;
  readonly #studio: Studio;
  #file: Blob | null = null;
  #source: DescribedEpisode['source'] | null = null;
  #reelAudio: ReelAudio | null = null;
  #abort: AbortController | null = null;
  #rerender: ReturnType<typeof setTimeout> | undefined;
  #renderSeq = 0;
  #saves = new SerialQueue();

  constructor(studio: Studio) {
    this.#studio = studio;
  }

  get ready(): boolean {
    return this.structure !== null && this.#file !== null;
  }

  /** Brings back the stored episode, its analysis and the reel as they were. */
  async restore(): Promise<void> {
    this.restoring = true;
    try {
      const stored = await loadPodcast();
      if (!stored) return;
      const { episode, file } = stored;
      this.#file = file;
      this.episode = { id: episode.id, name: episode.name, size: episode.size, durationS: episode.source.durationS, kind: episode.source.kind, sampleRate: episode.source.sampleRate, channels: episode.source.channels, warnings: episode.warnings };
      this.#source = episode.source;
      if (stored.reel) {
        this.themeId = stored.reel.themeId;
        this.targetS = stored.reel.targetS;
        this.layout = stored.reel.layout;
        this.intro = stored.reel.intro;
        this.outro = stored.reel.outro;
      } else {
        this.layout = episode.source.channels === 1 ? 'mono' : 'stereo';
      }
      if (stored.analysis) {
        this.#setAnalysis(stored.analysis.analysis, stored.analysis.structure);
        this.plan = stored.reel?.plan ?? null;
        if (!this.plan) this.choose();
        await this.refreshExports();
        await this.renderReel();
      } else {
        // The analysis did not finish before the page went away: run it again.
        await this.#analyse(file, episode.name, { source: episode.source, warnings: episode.warnings }, episode.id);
      }
    } catch (e) {
      this.#fail(e, 'Podcast');
    } finally {
      this.restoring = false;
    }
  }

  cancel(): void {
    this.#abort?.abort();
  }

  /** Stops the running job, the pending re-render and playback, and lets go of the exported file's links. */
  dispose(): void {
    this.#abort?.abort();
    clearTimeout(this.#rerender);
    this.#stopPlayback();
    void this.#ctx?.close();
    this.#ctx = null;
    if (this.exported) {
      URL.revokeObjectURL(this.exported.url);
      URL.revokeObjectURL(this.exported.chaptersUrl);
    }
  }

  /** Opens a dropped or picked file: reads its layout, analyses it, and builds the first reel. */
  async openFile(file: File): Promise<void> {
    const ctrl = this.#begin(`Reading ${file.name}`);
    try {
      this.#reset();
      const t0 = performance.now();
      const described = await this.#studio.jobSystem.run(podcastWorkers, {
        label: `Read ${file.name}`,
        signal: ctrl.signal,
        task: (api, onProgress) => api.describe(file, file.name, this.#track(onProgress)),
      });
      this.timings = { read_s: (performance.now() - t0) / 1000 };
      const id = crypto.randomUUID();
      this.#file = file;
      this.#source = described.source;
      const s = described.source;
      this.episode = { id, name: file.name, size: file.size, durationS: s.durationS, kind: s.kind, sampleRate: s.sampleRate, channels: s.channels, warnings: described.warnings };
      this.layout = s.channels === 1 ? 'mono' : 'stereo';
      for (const w of described.warnings) this.#studio.notify('warning', w, file.name);
      // Kept for reloads while the analysis runs; a full disk costs only that.
      this.#save(() =>
        saveEpisode({ version: PODCAST_STORE_VERSION, id, name: file.name, size: file.size, lastModified: file.lastModified, type: file.type, source: s, warnings: described.warnings, savedAt: Date.now() }, file),
      );
      await this.#analyse(file, file.name, described, id, ctrl);
    } catch (e) {
      this.#fail(e, file.name);
    } finally {
      this.#end(ctrl);
    }
  }

  /** Fetches an episode by URL in the browser, then opens it; a CORS or network failure says so plainly. */
  async openUrl(url: string): Promise<void> {
    const address = url.trim();
    if (!address) return;
    let parsed: URL;
    try {
      parsed = new URL(address);
    } catch {
      this.#fail(new Error(`${address}: not a web address (it should start with https://)`), address);
      return;
    }
    const ctrl = this.#begin(`Downloading ${parsed.pathname.split('/').pop() || parsed.host}`);
    let file: File;
    try {
      let res: Response;
      try {
        res = await fetch(parsed.href, { signal: ctrl.signal, mode: 'cors', credentials: 'omit' });
      } catch (e) {
        if (isAbortError(e)) throw e;
        // A fetch rejects with a bare TypeError for CORS refusals and network failures alike.
        throw new Error(`${parsed.href}: ${HOST_REFUSED}`);
      }
      if (!res.ok) throw new Error(`${parsed.href}: the host answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
      const total = Number(res.headers.get('content-length')) || 0;
      const parts: Uint8Array[] = [];
      let got = 0;
      const reader = res.body?.getReader();
      if (reader) {
        for (;;) {
          let chunk: ReadableStreamReadResult<Uint8Array>;
          try {
            chunk = await reader.read();
          } catch (e) {
            if (isAbortError(e)) throw e;
            throw new Error(`${parsed.href}: the download broke off after ${(got / 1e6).toFixed(1)} MB: ${HOST_REFUSED}`);
          }
          if (chunk.done) break;
          parts.push(chunk.value);
          got += chunk.value.byteLength;
          this.progress = { fraction: total ? got / total : null, stage: `downloading ${(got / 1e6).toFixed(1)} MB` };
        }
      }
      const name = decodeURIComponent(parsed.pathname.split('/').pop() || 'episode') || 'episode';
      // A Blob of the parts: the browser may keep a large one on disk rather than in memory.
      file = new File(parts as BlobPart[], name, { type: res.headers.get('content-type') ?? '' });
    } catch (e) {
      this.#fail(e, parsed.href);
      this.#end(ctrl);
      return;
    }
    this.#end(ctrl);
    await this.openFile(file);
  }

  async #analyse(file: Blob, name: string, described: DescribedEpisode, id: string, outer?: AbortController): Promise<void> {
    const ctrl = outer ?? this.#begin(`Analysing ${name}`);
    try {
      this.busy = `Analysing ${name}`;
      const source = described.source;
      const t0 = performance.now();
      // Chunks of up to 10 minutes, at least four so both workers share a short episode too.
      // The page decoder holds a chunk at the file's rate while it decodes (a 10-minute stereo chunk is 0.2 GB at
      // 44.1 kHz), two at a time: it gets chunks of up to 5 minutes, ffmpeg.wasm (which streams) up to 10.
      const pageDecodes = this.pageDecode && canDecodeOnPage() && source.kind === 'mp3';
      const chunks = planChunks(source.durationS, Math.min(pageDecodes ? this.pageChunkS : 600, Math.max(30, source.durationS / 4)));
      // One queue for both workers: a worker that is free takes the next chunk, so neither idles while the other
      // still has a list to work through (chunk costs vary with the talk in them).
      const workers = Math.min(2, chunks.length);
      const take = chunkQueue(chunks, ctrl.signal);
      const claim = proxy(async () => take());
      const fractions = Array.from({ length: workers }, () => 0);
      const pageDecode = pageDecodes ? proxy(pageSliceDecoder(file)) : undefined;
      const results = await Promise.all(
        fractions.map((_, k) =>
          this.#studio.jobSystem.run(podcastWorkers, {
            label: `Analyse ${name} (part ${k + 1} of ${workers})`,
            signal: ctrl.signal,
            task: (api, onProgress) =>
              api.analyse(
                { file, fileName: name, source, chunks },
                proxy((p: Parameters<ProgressCallback>[0]) => {
                  onProgress(p);
                  // Each worker reports its share of the whole episode.
                  fractions[k] = p.fraction ?? 0;
                  this.progress = { fraction: Math.min(1, fractions.reduce((a, b) => a + b, 0)), stage: p.stage };
                }),
                pageDecode,
                claim,
              ),
          }),
        ),
      );
      const t1 = performance.now();
      const analysed = results.flat();
      // The queue stops handing out chunks only when the job is cancelled, and then the jobs above throw.
      if (analysed.length !== chunks.length) throw new Error(`The analysis returned ${analysed.length} of ${chunks.length} parts of ${name}.`);
      const { analysis, structure } = await this.#studio.jobSystem.run(podcastWorkers, {
        label: `Find segments in ${name}`,
        signal: ctrl.signal,
        task: (api, onProgress) => api.assemble(analysed, source.durationS, this.#track(onProgress)),
      });
      const t2 = performance.now();
      // The analysis workers' grown heaps (VAD, decoder) are of no further use: free them before the reel and its export.
      this.timings = {
        ...this.timings,
        analyse_s: (t1 - t0) / 1000,
        assemble_s: (t2 - t1) / 1000,
        // CPU time inside the analysis, summed over both workers.
        decode_cpu_s: analysis.seconds.decode,
        features_cpu_s: analysis.seconds.features,
        vad_cpu_s: analysis.seconds.vad,
        vad_model_frames: analysis.vad.modelFrames,
        vad_frames: analysis.vad.frames,
        page_decoded_chunks: analysis.decoders.page,
        ffmpeg_decoded_chunks: analysis.decoders.ffmpeg,
      };
      for (const w of analysis.warnings) this.#studio.notify('warning', w, name);
      if (analysis.classes.every((c) => c !== 1)) this.#studio.notify('warning', 'No speech was found in this episode: the talk themes have nothing to choose; Music & Jingles may.', name);
      this.#setAnalysis(analysis, structure);
      this.#save(() => saveAnalysis(id, analysis, structure));
      this.choose();
      await this.refreshExports();
      await this.renderReel(ctrl);
    } catch (e) {
      this.#fail(e, name);
    } finally {
      if (!outer) this.#end(ctrl);
    }
  }

  #setAnalysis(analysis: EpisodeAnalysis, structure: EpisodeStructure): void {
    this.analysis = analysis;
    this.structure = structure;
    // About 4000 points across the overview, whatever the length.
    const perSecond = Math.max(1, Math.min(100, Math.round(4000 / Math.max(1, analysis.durationS))));
    this.overview = { peaks: overviewPeaks(analysis.levelDb, perSecond), perSecond };
  }

  /** Picks the reel for the current theme and length (the first reel, or after either changes). */
  choose(themeId: ThemeId = this.themeId, targetS: number = this.targetS): void {
    if (!this.structure || !this.episode) return;
    this.themeId = themeId;
    this.targetS = targetS;
    const t0 = performance.now();
    this.plan = selectReel(this.structure.segments, themeId, targetS, {
      introS: this.intro?.durationS ?? 0,
      outroS: this.outro?.durationS ?? 0,
      episodeName: this.episode.name,
      episodeDurationS: this.episode.durationS,
    });
    this.timings = { ...this.timings, select_s: (performance.now() - t0) / 1000 };
    this.exported = null;
    this.#persistReel();
  }

  /** Rebuilds the reel for a new theme or length and renders it. */
  async setThemeAndLength(themeId: ThemeId, targetS: number): Promise<void> {
    if (!(targetS >= 5 && targetS <= 3600)) {
      this.#fail(new Error(`A reel of ${targetS} s is not possible: choose between 5 s and 60 minutes.`), 'Podcast');
      return;
    }
    this.choose(themeId, targetS);
    await this.renderReel();
  }

  setLayout(layout: ReelLayout): void {
    if (layout === this.layout) return;
    this.layout = layout;
    this.exported = null;
    this.#persistReel();
    this.#scheduleRender();
  }

  // ---- edits: each changes the plan, persists it and re-renders shortly after ----
  #edit(next: ReelPlan | null): void {
    if (!next) return;
    this.plan = next;
    this.exported = null;
    this.#persistReel();
    this.#scheduleRender();
  }

  /** A moved cut goes into the nearest pause within 1.5 s (else the quietest point near it), so no word is cut. */
  #snap(t: number): number {
    const a = this.analysis!;
    return snapCut(a, this.structure?.pauses ?? [], Math.max(0, Math.min(a.durationS, t)));
  }

  /** A dragged region, or edited start/end: both cuts snap (see #snap). */
  moveClip(key: string, start: number, end: number): void {
    if (!this.plan || !this.analysis) return;
    const s = this.#snap(start);
    const e = this.#snap(end);
    if (e - s < 1) return;
    this.#edit(setClipBounds(this.plan, key, s, e));
  }

  removeClip(key: string): void {
    if (this.plan) this.#edit(removeClip(this.plan, key));
  }

  addRegion(start: number, end: number): void {
    if (!this.plan || !this.analysis) return;
    const s = this.#snap(start);
    const e = this.#snap(end);
    if (e - s < 1) {
      this.#fail(new Error('A region must be at least 1 s long.'), 'Podcast');
      return;
    }
    this.#edit(addClip(this.plan, s, e));
  }

  swapClip(key: string): void {
    if (!this.plan || !this.structure) return;
    const next = swapClip(this.plan, key, this.structure.segments);
    if (!next) this.#studio.notify('info', 'Every candidate of this theme is already in the reel.', 'Podcast');
    this.#edit(next);
  }

  refit(): void {
    if (this.plan) this.#edit(refit(this.plan));
  }

  async setIntro(which: 'intro' | 'outro', file: File | null): Promise<void> {
    if (!file) {
      this[which] = null;
    } else {
      try {
        const durationS = await this.#studio.jobSystem.run(podcastReelWorkers, {
          label: `Read ${file.name}`,
          task: (api) => api.clipDuration(file, file.name),
        });
        if (durationS > 120) throw new Error(`${file.name}: an ${which} of ${Math.round(durationS)} s is too long (2 minutes at most)`);
        this[which] = { name: file.name, blob: file, durationS };
      } catch (e) {
        this.#fail(e, file.name);
        return;
      }
    }
    // The clips make room for it: the reel's length is still the target.
    this.choose();
    await this.renderReel();
  }

  #scheduleRender(): void {
    clearTimeout(this.#rerender);
    this.#rerender = setTimeout(() => void this.renderReel(), RERENDER_DEBOUNCE_MS);
  }

  /** Decodes the reel's clips at full quality (only those not decoded before) and joins them. */
  async renderReel(outer?: AbortController): Promise<ReelAudio | null> {
    const plan = this.plan;
    const file = this.#file;
    const source = this.#source;
    const episode = this.episode;
    if (!plan || !file || !source || !episode) return null;
    const seq = ++this.#renderSeq;
    const t0 = performance.now();
    try {
      const rate = source.sampleRate === 44100 || source.sampleRate === 48000 ? source.sampleRate : 44100;
      // MP3 clips are decoded by the page's native decoder, as in the analysis (src/bridge/page-decode.ts).
      const pageDecode = this.pageDecode && canDecodeOnPage() && source.kind === 'mp3' ? proxy(pageSliceDecoder(file)) : undefined;
      // The mastering worker starts while the clips decode: an export that follows finds it ready.
      this.#studio.jobSystem.startAhead(podcastMasterWorkers, 'Start the mastering worker', (api) => api.warm());
      const reel = await this.#studio.jobSystem.run(podcastReelWorkers, {
        label: `Render the ${THEMES.find((t) => t.id === plan.theme)?.label ?? ''} reel`,
        signal: outer?.signal,
        task: (api, onProgress) =>
          api.renderReel(
            {
              file,
              fileName: episode.name,
              source,
              clips: plan.clips.map((c) => ({ start: c.start, end: c.end })),
              rate,
              channels: this.layout === 'mono' ? 1 : 2,
              crossfadeS: plan.crossfadeS,
              intro: this.intro ? { file: this.intro.blob, fileName: this.intro.name } : null,
              outro: this.outro ? { file: this.outro.blob, fileName: this.outro.name } : null,
            },
            onProgress,
            pageDecode,
          ),
      });
      if (seq !== this.#renderSeq) return null;
      this.#stopPlayback();
      this.#reelAudio = reel;
      const durationS = reel.channels[0]?.length ? reel.channels[0].length / reel.rate : 0;
      this.reel = { peaks: reel.peaks, durationS, rate: reel.rate, channels: reel.channels.length };
      this.timings = { ...this.timings, render_s: (performance.now() - t0) / 1000 };
      for (const w of reel.warnings) this.#studio.notify('warning', w, episode.name);
      return reel;
    } catch (e) {
      if (seq === this.#renderSeq) this.#fail(e, episode.name);
      return null;
    }
  }

  /** The reel mastered (speech EQ, compression, −16/−19 LUFS, −1 dBTP), encoded, and checked on the file itself. */
  async exportReel(): Promise<PodcastExport | null> {
    const episode = this.episode;
    const plan = this.plan;
    if (!episode || !plan) return null;
    const ctrl = this.#begin('Exporting the reel');
    try {
      clearTimeout(this.#rerender);
      const reel = this.#reelAudio && this.reel ? this.#reelAudio : await this.renderReel(ctrl);
      if (!reel || !reel.channels[0]?.length) throw new Error('The reel is empty: choose a theme that finds material, or add a region.');
      const layout: ReelLayout = reel.channels.length === 1 ? 'mono' : 'stereo';
      const fileTarget = PODCAST_TARGET_LUFS[layout];
      // The chain meters its stereo pair; a mono reel runs as two identical channels, 3.01 dB louder than it is alone.
      const chainTarget = layout === 'mono' ? fileTarget + 10 * Math.log10(2) : fileTarget;
      const settings = podcastMasteringSettings(chainTarget);
      const left = reel.channels[0];
      const right = reel.channels[1] ?? reel.channels[0];
      const title = `${fileTitle(episode.name)} – ${THEMES.find((x) => x.id === plan.theme)?.label ?? 'Best Of'}`;
      // The encoder workers start ffmpeg.wasm while the reel is mastered (one worker, one core): the encode then
      // begins on compiled code. A failed warm-up is left to the encode itself to report.
      const channelCount = layout === 'mono' ? 1 : 2;
      this.#studio.jobSystem.startAhead(podcastWorkers, 'Start the MP3 encoder', (api) => api.warmMp3Encoder(reel.rate, channelCount), { count: mp3Encoders(left.length, reel.rate), signal: ctrl.signal });
      const loop = await runExportLoop(
        { targetLufs: fileTarget, ceilingDbtp: PODCAST_CEILING_DBTP, lossy: true },
        {
          master: async (headroom, trim, pass) => {
            this.busy = `Mastering (pass ${pass})`;
            // The copies come back as `unmastered`; dropped at once, so they never add to the export's peak memory.
            const { unmastered: _copies, ...mastered } = await this.#studio.jobSystem.run(podcastMasterWorkers, {
              // Its own worker, ended after each pass (below): the chain's working copies (tone-shaped mix, peak
              // envelopes, limiter output) are several times the reel, and a worker's memory is only sure to go when it ends.
              label: `Master the reel to ${fileTarget} LUFS`,
              signal: ctrl.signal,
              // Copies, transferred: the reel stays here for the next pass, and no second copy lingers on this side.
              task: (api, onProgress) => {
                const l = left.slice();
                const r = right.slice();
                return api.master(transfer({ left: l, right: r, sampleRate: reel.rate, settings, extraHeadroomDb: headroom, gainTrimDb: trim }, [l.buffer, r.buffer]), this.#track(onProgress));
              },
            });
            return mastered;
          },
          encode: (mastered) => {
            this.busy = 'Encoding MP3 320 kb/s';
            const out = layout === 'mono' ? [mastered.left] : [mastered.left, mastered.right];
            // The file check's mastering worker starts after the encoders, not beside them: starting it ahead saved
            // no time and added its heap to the export's peak (3-hour reel: 1,494 MB with it, 1,373 MB without).
            // The encoders' memory (ffmpeg's heap, the PCM they read) goes before the check decodes the file.
            return this.#encode(out, reel.rate, { title, artist: undefined }, ctrl.signal);
          },
          verify: (bytes) => {
            this.busy = 'Checking the file';
            return this.#checkFile(bytes, `${title}.mp3`, reel.rate, ctrl.signal);
          },
        },
      );
      const { encoded: bytes, check } = loop;
      const report = loop.final.report;
      const passes = loop.passes.length;
      // A reel off its loudness target is off spec even when the gain was capped: podcast apps play it at that level.
      const withinSpec = loop.underCeiling && loop.onTarget;
      for (const w of report.warnings) this.#studio.notify('warning', w, 'Mastering');
      const name = `${safeName(title)}.mp3`;
      const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'audio/mpeg' });
      const chapters = reelChapters({ ...plan, durationS: reel.channels[0].length / reel.rate, introS: reel.introS, outroS: reel.outroS }, { title, episodeName: episode.name, fileName: name });
      const chaptersName = `${safeName(title)}.chapters.json`;
      if (this.exported) {
        URL.revokeObjectURL(this.exported.url);
        URL.revokeObjectURL(this.exported.chaptersUrl);
      }
      let id = '';
      try {
        id = (await saveExport({ sessionId: `podcast:${episode.id}`, name, format: 'mp3', mime: 'audio/mpeg', blob, lufs: check.integratedLufs, truePeakDb: check.truePeakDb })).id;
      } catch (e) {
        // The file is there to download even when storage is full.
        this.#studio.notify('warning', `${name} was not stored (${errorMessage(e)}); download it now.`, name);
      }
      this.exported = {
        id,
        name,
        url: URL.createObjectURL(blob),
        bytes: blob.size,
        layout,
        targetLufs: fileTarget,
        lufs: check.integratedLufs,
        truePeakDb: check.truePeakDb,
        withinSpec,
        passes,
        chaptersName,
        chaptersUrl: URL.createObjectURL(new Blob([JSON.stringify(chapters, null, 2)], { type: 'application/json+chapters' })),
      };
      this.timings = { ...this.timings, ...loop.timings };
      if (!withinSpec) this.#studio.notify('warning', `${name} measured ${check.integratedLufs.toFixed(1)} LUFS, ${check.truePeakDb.toFixed(2)} dBTP after ${passes} passes.`, name);
      await this.refreshExports();
      return this.exported;
    } catch (e) {
      this.#fail(e, 'Export');
      return null;
    } finally {
      this.#end(ctrl);
    }
  }

  /**
   * Loudness and true peak of the exported file itself, decoded as a player would. The page's decoder (native, no
   * ffmpeg core to start) decodes it and a short-lived render worker measures; ffmpeg.wasm in a podcast worker
   * is the fallback where the page cannot decode.
   */
  async #checkFile(bytes: Uint8Array, fileName: string, rate: number, signal: AbortSignal): Promise<{ integratedLufs: number; truePeakDb: number }> {
    let channels: Float32Array[] | null = null;
    if (canDecodeOnPage()) {
      try {
        const audio = await new OfflineAudioContext(1, 1, rate).decodeAudioData(bytes.slice().buffer);
        channels = Array.from({ length: Math.min(2, audio.numberOfChannels) }, (_, c) => audio.getChannelData(c).slice());
      } catch (e) {
        console.warn(`The page could not decode ${fileName}; ffmpeg.wasm checks it:`, e);
      }
    }
    if (channels) {
      const [left, right] = channels;
      try {
        // A mono file is measured as mono: BS.1770 sums the channels it has, so the mono target is its own (−19 LUFS).
        return await this.#studio.jobSystem.run(podcastMasterWorkers, {
          label: 'Measure the exported MP3',
          signal,
          task: (api) => api.measure(transfer(left, [left.buffer]), right ? transfer(right, [right.buffer]) : null, rate),
        });
      } finally {
      }
    }
    try {
      return await this.#studio.jobSystem.run(podcastWorkers, {
        // A podcast worker, not the reel worker: that one holds the decoded clips, and this decode is as large.
        label: 'Measure the exported MP3',
        signal,
        task: (api, onProgress) => {
          const copy = bytes.slice();
          return api.measureFile(transfer(copy, [copy.buffer]), fileName, rate, this.#track(onProgress));
        },
      });
    } finally {
    }
  }

  /**
   * MP3 encode from 16-bit PCM (all a 320 kb/s encode keeps; each encoder worker converts its range); a reel longer than
   * SPLIT_MP3_MIN_SECONDS is encoded as two overlapping halves on both cores and spliced (encodeMp3InHalves).
   */
  #encode(channels: Float32Array[], rate: number, tags: { title?: string; artist?: string }, signal: AbortSignal): Promise<Uint8Array> {
    return encodeMp3OnWorkers(this.#studio.jobSystem, podcastWorkers, channels, rate, tags, {
      signal,
      label: (part) => (part === 'whole' ? 'Encode the reel (MP3 320k)' : `Encode the reel (${part})`),
    });
  }

  playing = $state(false);
  playhead = $state(0);
  #ctx: AudioContext | null = null;
  #node: AudioBufferSourceNode | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** Plays the rendered (unmastered) reel from the start, or stops it. */
  async togglePlay(): Promise<void> {
    if (this.playing) {
      this.#stopPlayback();
      return;
    }
    const reel = this.#reelAudio;
    if (!reel || !reel.channels[0]?.length) return;
    await this.#studio.pause();
    this.#ctx ??= new AudioContext({ sampleRate: reel.rate });
    const buf = this.#ctx.createBuffer(reel.channels.length, reel.channels[0].length, reel.rate);
    reel.channels.forEach((c, i) => buf.copyToChannel(c as Float32Array<ArrayBuffer>, i));
    const node = this.#ctx.createBufferSource();
    node.buffer = buf;
    node.connect(this.#ctx.destination);
    await this.#ctx.resume();
    const started = this.#ctx.currentTime;
    node.onended = () => {
      if (this.#node === node) this.#stopPlayback();
    };
    node.start();
    this.#node = node;
    this.playing = true;
    this.#timer = setInterval(() => (this.playhead = this.#ctx ? this.#ctx.currentTime - started : 0), 100);
  }

  #stopPlayback(): void {
    clearInterval(this.#timer);
    const node = this.#node;
    this.#node = null;
    try {
      node?.stop();
    } catch {
      // Already ended.
    }
    this.playing = false;
    this.playhead = 0;
  }

  async refreshExports(): Promise<void> {
    this.exports = this.episode ? await listExports(`podcast:${this.episode.id}`).catch(() => []) : [];
  }

  async removeExport(id: string): Promise<void> {
    await deleteExport(id);
    await this.refreshExports();
  }

  /** Chapters of the current reel as a downloadable JSON file. */
  chaptersJson(): string | null {
    if (!this.plan || !this.episode) return null;
    const durationS = this.reel?.durationS ?? this.plan.durationS;
    return JSON.stringify(reelChapters({ ...this.plan, durationS }, { episodeName: this.episode.name }), null, 2);
  }

  /** Forgets the episode, its analysis and the reel (stored exports stay in Storage). */
  async closeEpisode(): Promise<void> {
    this.cancel();
    this.#reset();
    this.episode = null;
    await clearPodcast().catch(() => undefined);
  }

  #reset(): void {
    this.#stopPlayback();
    clearTimeout(this.#rerender);
    this.#renderSeq++;
    this.analysis = null;
    this.structure = null;
    this.overview = null;
    this.plan = null;
    this.reel = null;
    this.#reelAudio = null;
    this.#file = null;
    this.#source = null;
    this.exported = null;
    this.error = null;
    this.intro = null;
    this.outro = null;
  }

  #persistReel(): void {
    const episode = this.episode;
    if (!episode) return;
    const snapshot = { episodeId: episode.id, themeId: this.themeId, targetS: this.targetS, layout: this.layout, plan: $state.snapshot(this.plan) as ReelPlan | null, intro: this.intro, outro: this.outro };
    this.#save(() => saveReel(snapshot));
  }

  /** Storage writes in order, each after the one before; a failure is reported, never thrown at the user's edit. */
  #save(write: () => Promise<void>): void {
    void this.#saves.run(() => write().catch((e: unknown) => this.#studio.notify('warning', `Not saved for the next visit: ${errorMessage(e)}`, 'Podcast')));
  }

  /** Waits for queued storage writes (tests and the page-hide handler use it). */
  flush(): Promise<unknown> {
    return this.#saves.idle();
  }

  /** The job's progress callback, also mirrored into the panel's progress bar (a comlink proxy, as the worker calls it). */
  #track(onProgress: ProgressCallback): ProgressCallback {
    return proxy((p: Parameters<ProgressCallback>[0]) => {
      onProgress(p);
      this.progress = p;
    });
  }

  #begin(what: string): AbortController {
    this.#abort?.abort();
    const ctrl = new AbortController();
    this.#abort = ctrl;
    this.busy = what;
    this.error = null;
    this.progress = { fraction: null, stage: what };
    return ctrl;
  }

  #end(ctrl: AbortController): void {
    if (this.#abort === ctrl) {
      this.#abort = null;
      this.busy = null;
      this.progress = null;
    }
  }

  #fail(e: unknown, subject: string): void {
    if (isAbortError(e)) {
      this.#studio.notify('info', 'Cancelled.', subject);
      return;
    }
    const message = errorMessage(e);
    this.error = message;
    this.#studio.notify('error', message, subject);
  }
}
