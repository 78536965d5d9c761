// Mastering and export: preview the master, A/B it loudness-matched, export and verify the file itself.
import { proxy, transfer } from 'comlink';
import type { Studio } from '../studio';
import { AbPlayer, loudnessMatchGains } from '../../bridge/ab-player';
import { defaultMasteringSettings, MASTERING_PRESETS, type LoudnessReport, type MasteringPresetId, type MasteringReport, type MasteringSettings } from '../../shared/mastering';
import { EXPORT_FORMATS, type ExportFormat, type ExportTags } from '../../shared/export';
import { mp3Encoders } from '../../media/mp3-splice';
import { runExportLoop, type ExportPass } from '../../media/export-loop';
import { encodeMp3OnWorkers } from '../../bridge/mp3-encode';
import type { EncodedExport } from './contract';
import { exportWorkers } from './workers';
import { renderWorkers, type MasterResult, type RenderResult } from '../studio';
import { deleteExport, listExports, saveExport } from '../../storage/exports';
import type { ExportRecord } from '../../storage/schema';
import { errorMessage, isAbortError } from '../../shared/errors';
import { StorageFullError } from '../../storage/quota';

function isStorageFull(e: unknown): boolean {
  return e instanceof StorageFullError || (e instanceof Error && e.name === 'StorageFullError');
}

/** What the exported file itself measured after decoding it back. */
export interface FileCheck {
  format: ExportFormat;
  lufs: number;
  truePeakDb: number;
  attempts: number;
  withinSpec: boolean;
  /** What each pass's file measured, and the headroom it was mastered with. */
  passes: ExportPass[];
}

export interface StageTimings {
  render_s: number;
  master_s: number;
  encode_s: number;
  verify_s: number;
}

export class MasteringDesk {
  settings = $state<MasteringSettings>(defaultMasteringSettings());
  report = $state.raw<MasteringReport | null>(null);
  fileCheck = $state.raw<FileCheck | null>(null);
  /** Which side of the A/B is heard: 0 unmastered, 1 mastered. */
  abSide = $state(1);
  abPlaying = $state(false);
  abPosition = $state(0);
  busy = $state<string | null>(null);
  format = $state<ExportFormat>('mp3');
  title = $state('');
  artist = $state('');
  exports = $state.raw<ExportRecord[]>([]);
  /** An export that was encoded but could not be stored (storage full): still downloadable. */
  unsaved = $state.raw<{ name: string; url: string; bytes: number } | null>(null);
  lastTimings = $state.raw<StageTimings | null>(null);

  readonly #studio: Studio;
  #abort: AbortController | null = null;
  #player: AbPlayer | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #inputMeasure: { key: string; report: Promise<LoudnessReport> } | null = null;

  constructor(studio: Studio) {
    this.#studio = studio;
  }

  /** Picks up the session's stored settings (or the defaults) and its exports. */
  async load(): Promise<void> {
    const s = this.#studio.session;
    this.settings = s?.mastering ? structuredClone($state.snapshot(s.mastering)) as MasteringSettings : defaultMasteringSettings();
    this.title = s?.name ?? '';
    this.report = null;
    this.fileCheck = null;
    await this.refreshExports();
  }

  setPreset(preset: MasteringPresetId): void {
    const p = MASTERING_PRESETS[preset];
    this.settings.preset = preset;
    if (preset !== 'custom') {
      this.settings.targetLufs = p.targetLufs;
      this.settings.ceilingDbtp = p.ceilingDbtp;
    }
    this.settingsChanged();
  }

  settingsChanged(): void {
    const s = this.#studio.session;
    if (!s) return;
    const next = $state.snapshot(this.settings) as MasteringSettings;
    if (JSON.stringify(next) === JSON.stringify($state.snapshot(s.mastering))) return;
    s.mastering = next;
    this.#studio.requestSave();
  }

  cancel(): void {
    this.#abort?.abort();
  }

  /** Stops the running job and the A/B player, and lets go of the unsaved file. */
  dispose(): void {
    this.#abort?.abort();
    clearInterval(this.#timer);
    void this.#player?.close();
    this.#player = null;
    if (this.unsaved) URL.revokeObjectURL(this.unsaved.url);
  }

  async #render(signal: AbortSignal): Promise<RenderResult> {
    return this.#studio.renderMix({ signal });
  }

  /**
   * Masters the mix. Its channels are lent to the worker (moved, not copied) and come back with the master, when
   * they are put back into `mix` for the A/B and any later pass: until then `mix` must not be read.
   */
  async #master(mix: RenderResult, signal: AbortSignal, extra: { extraHeadroomDb?: number; gainTrimDb?: number; analysisKey?: string } = {}): Promise<MasterResult> {
    const settings = $state.snapshot(this.settings) as MasteringSettings;
    // The input measurement's copies are taken first, while the channels are still here.
    const measureInput = this.#measureInput(mix, signal, extra.analysisKey);
    const { left, right } = mix;
    let input: Promise<LoudnessReport> | undefined;
    // Started first, so it takes the render worker that ran (and cached) this analysis's earlier pass.
    const mastered = this.#studio.jobSystem.run(renderWorkers, {
      label: `Master to ${settings.targetLufs} LUFS`,
      signal,
      task: (api, onProgress) =>
        api.master(
          transfer(
            { left, right, sampleRate: mix.sampleRate, settings, extraHeadroomDb: extra.extraHeadroomDb, gainTrimDb: extra.gainTrimDb, analysisKey: extra.analysisKey },
            [left.buffer, right.buffer],
          ),
          onProgress,
          proxy(() => input!),
        ),
    });
    input = measureInput();
    const result = await mastered;
    mix.left = result.unmastered.left;
    mix.right = result.unmastered.right;
    return result;
  }

  /**
   * The unmastered mix's loudness and true peak, measured on the other render worker while the first
   * masters; once per analysis, since an export's later passes master the same mix. Copies the channels
   * now; the returned function starts the job.
   */
  #measureInput(mix: RenderResult, signal: AbortSignal, analysisKey: string | undefined): () => Promise<LoudnessReport> {
    if (analysisKey && this.#inputMeasure?.key === analysisKey) {
      const cached = this.#inputMeasure.report;
      return () => cached;
    }
    const left = mix.left.slice();
    const right = mix.right.slice();
    return () => this.#startMeasure(left, right, mix.sampleRate, signal, analysisKey);
  }

  #startMeasure(left: Float32Array, right: Float32Array, sampleRate: number, signal: AbortSignal, analysisKey: string | undefined): Promise<LoudnessReport> {
    const report = this.#studio.jobSystem.run(renderWorkers, {
      label: 'Measure the unmastered mix',
      signal,
      task: (api) => api.measure(transfer(left, [left.buffer]), transfer(right, [right.buffer]), sampleRate),
    });
    // Its failure reaches the user through the master that asks for it; this only keeps it from being reported twice.
    report.catch(() => undefined);
    this.#inputMeasure = analysisKey ? { key: analysisKey, report } : null;
    return report;
  }

  /** Renders and masters the mix, then sets up the loudness-matched A/B. */
  async preview(): Promise<MasterResult | null> {
    const ctrl = this.#begin('Mastering');
    try {
      const mix = await this.#render(ctrl.signal);
      const mastered = await this.#master(mix, ctrl.signal);
      this.report = mastered.report;
      for (const w of mastered.report.warnings) this.#studio.notify('warning', w, 'Mastering');
      await this.#setupAb(mix, mastered);
      return mastered;
    } catch (e) {
      this.#fail(e, 'Mastering');
      return null;
    } finally {
      this.#end(ctrl);
    }
  }

  async #setupAb(mix: RenderResult, mastered: MasterResult): Promise<void> {
    await this.#studio.pause();
    this.#player ??= new AbPlayer(mix.sampleRate);
    const gains = loudnessMatchGains([mastered.report.input.integratedLufs, mastered.report.output.integratedLufs]);
    this.#player.setSources([
      { left: mix.left, right: mix.right, gain: gains[0] },
      { left: mastered.left, right: mastered.right, gain: gains[1] },
    ]);
    this.#player.select(this.abSide);
    this.abPlaying = false;
    this.abPosition = 0;
  }

  get abReady(): boolean {
    return this.report !== null && this.#player !== null;
  }

  async toggleAb(): Promise<void> {
    const p = this.#player;
    if (!p) return;
    if (p.playing) {
      p.pause();
      clearInterval(this.#timer);
      this.abPlaying = false;
      return;
    }
    await this.#studio.pause();
    await p.play();
    this.abPlaying = true;
    this.#timer = setInterval(() => {
      this.abPosition = p.position;
      if (!p.playing) {
        this.abPlaying = false;
        clearInterval(this.#timer);
      }
    }, 100);
  }

  selectAb(side: number): void {
    this.abSide = side;
    this.#player?.select(side);
  }

  /**
   * Masters, encodes, then decodes the file itself and checks loudness and true peak on it:
   * encoding adds inter-sample overs, so the limiter's ceiling is lowered until the file meets spec.
   */
  async exportMaster(): Promise<ExportRecord | null> {
    const session = this.#studio.session;
    if (!session) return null;
    const format = this.format;
    const info = EXPORT_FORMATS[format];
    const ctrl = this.#begin(`Exporting ${info.label}`);
    if (this.unsaved) URL.revokeObjectURL(this.unsaved.url);
    this.unsaved = null;
    try {
      const t0 = performance.now();
      const mix = await this.#render(ctrl.signal);
      const render_s = (performance.now() - t0) / 1000;
      const analysisKey = crypto.randomUUID();
      // The encoder workers start ffmpeg.wasm (and for MP3 warm up its encoder) while the mix is mastered on one
      // core: a first export no longer waits for the 32 MB core to load after the master. Already warm: no-ops.
      this.#studio.jobSystem.startAhead(exportWorkers, 'Start the encoder', (api) => api.warm(format, mix.sampleRate), {
        count: format === 'mp3' ? mp3Encoders(mix.left.length, mix.sampleRate) : 1,
        signal: ctrl.signal,
      });
      const tags = { title: this.title || session.name, artist: this.artist || undefined };
      const loop = await runExportLoop(
        { targetLufs: this.settings.targetLufs, ceilingDbtp: this.settings.ceilingDbtp, lossy: !info.lossless },
        {
          master: (extraHeadroomDb, gainTrimDb) => this.#master(mix, ctrl.signal, { extraHeadroomDb, gainTrimDb, analysisKey }),
          encode: (m) => this.#encode(m.left, m.right, mix.sampleRate, format, tags, ctrl.signal).then((e) => e.bytes),
          verify: (bytes) => this.#verify(bytes, `${session.name}.${info.ext}`, mix.sampleRate, ctrl.signal),
        },
      );
      const { final, encoded: bytes, check: measured, withinSpec, silent } = loop;
      const attempts = loop.passes.length;
      this.fileCheck = { format, lufs: measured.integratedLufs, truePeakDb: measured.truePeakDb, attempts, withinSpec, passes: loop.passes };
      this.report = final.report;
      this.lastTimings = { render_s, ...loop.timings };
      for (const w of final.report.warnings) this.#studio.notify('warning', w, 'Mastering');
      if (!withinSpec && !silent && !final.report.gainCapped) {
        this.#studio.notify('warning', `The ${info.label} file measured ${measured.integratedLufs.toFixed(1)} LUFS, ${measured.truePeakDb.toFixed(2)} dBTP after ${attempts} passes.`, 'Export');
      }
      const name = `${(this.title || session.name).replace(/[\\/:*?"<>|]+/g, '_')}.${info.ext}`;
      const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type: info.mime });
      let rec: ExportRecord;
      try {
        rec = await saveExport({ sessionId: session.id, name, format, mime: info.mime, blob, lufs: measured.integratedLufs, truePeakDb: measured.truePeakDb });
      } catch (e) {
        if (!isStorageFull(e)) throw e;
        // The file exists, only storing it failed: offer it for download and show what uses the space.
        this.unsaved = { name, url: URL.createObjectURL(blob), bytes: blob.size };
        this.#studio.notify('error', `${name} (${(blob.size / 1e6).toFixed(1)} MB) was not stored: browser storage is full. Download it now below, or free space in Storage.`, name);
        await this.#studio.openStorageDialog(errorMessage(e));
        await this.#setupAb(mix, final);
        return null;
      }
      await this.refreshExports();
      await this.#setupAb(mix, final);
      return rec;
    } catch (e) {
      this.#fail(e, 'Export');
      return null;
    } finally {
      this.#end(ctrl);
    }
  }

  /**
   * Encodes the master. An MP3 of more than a few seconds is encoded as two overlapping halves on
   * both cores and spliced frame-exactly (see mp3-splice.ts); other formats are fast enough whole.
   * MP3 is encoded from 16-bit PCM (all a 320 kb/s encode keeps), which each encoder worker makes from its range.
   */
  async #encode(left: Float32Array, right: Float32Array, sampleRate: number, format: ExportFormat, tags: ExportTags, signal: AbortSignal): Promise<EncodedExport> {
    const info = EXPORT_FORMATS[format];
    if (format !== 'mp3') {
      const l = left.slice();
      const r = right.slice();
      return this.#studio.jobSystem.run(exportWorkers, {
        label: `Encode ${info.label}`,
        signal,
        task: (api, onProgress) => api.encode(transfer({ left: l, right: r, sampleRate, format, tags }, [l.buffer, r.buffer]), onProgress),
      });
    }
    const bytes = await encodeMp3OnWorkers(this.#studio.jobSystem, exportWorkers, [left, right], sampleRate, tags, {
      signal,
      label: (part) => `Encode ${info.label}${part === 'whole' ? '' : ` (${part})`}`,
    });
    return { bytes, mime: info.mime, ext: info.ext };
  }

  async #verify(bytes: Uint8Array, fileName: string, sampleRate: number, signal: AbortSignal): Promise<LoudnessReport> {
    const decoded = await this.#studio.jobSystem.run(exportWorkers, {
      label: `Decode ${fileName} to check it`,
      signal,
      task: (api, onProgress) => api.decodeFile(bytes.slice(), fileName, sampleRate, onProgress),
    });
    return this.#studio.jobSystem.run(renderWorkers, {
      label: `Measure ${fileName}`,
      signal,
      task: (api) => api.measure(decoded.left, decoded.right, sampleRate),
    });
  }

  async refreshExports(): Promise<void> {
    const s = this.#studio.session;
    this.exports = s ? await listExports(s.id) : [];
  }

  async removeExport(id: string): Promise<void> {
    await deleteExport(id);
    await this.refreshExports();
  }

  #begin(what: string): AbortController {
    this.#abort?.abort();
    const ctrl = new AbortController();
    this.#abort = ctrl;
    this.busy = what;
    return ctrl;
  }

  #end(ctrl: AbortController): void {
    if (this.#abort === ctrl) {
      this.#abort = null;
      this.busy = null;
    }
  }

  #fail(e: unknown, subject: string): void {
    if (isAbortError(e)) this.#studio.notify('info', 'Cancelled.', subject);
    else this.#studio.notify('error', errorMessage(e), subject);
  }
}
