// Mastering and export: preview the master, A/B it loudness-matched, export and verify the file itself.
import { proxy, transfer } from 'comlink';
import type { Studio } from '../studio';
import { AbPlayer, loudnessMatchGains } from '../../bridge/ab-player';
import { defaultMasteringSettings, MASTERING_PRESETS, type LoudnessReport, type MasteringPresetId, type MasteringReport, type MasteringSettings } from '../../shared/mastering';
import { EXPORT_FORMATS, type ExportFormat, type ExportTags } from '../../shared/export';
import { encodeMp3InHalves, mp3Encoders } from '../../media/mp3-splice';
import type { EncodedExport } from './contract';
import { exportWorkers } from './workers';
import { renderWorkers, type MasterResult, type RenderResult } from '../studio';
import { deleteExport, listExports, saveExport } from '../../storage/exports';
import type { ExportRecord } from '../../storage/schema';
import { isAbortError } from '../../shared/errors';
import { planarRange } from '../../dsp/pcm16';
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
  passes: { lufs: number; truePeakDb: number; headroomDb: number }[];
}

export interface StageTimings {
  render_s: number;
  master_s: number;
  encode_s: number;
  verify_s: number;
}

const LUFS_TOLERANCE = 0.5;
const MAX_ENCODE_ATTEMPTS = 4;
const LOSSY_FIRST_PASS_HEADROOM_DB = 0.7;

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
    const t = { render_s: 0, master_s: 0, encode_s: 0, verify_s: 0 };
    try {
      let t0 = performance.now();
      const mix = await this.#render(ctrl.signal);
      t.render_s = (performance.now() - t0) / 1000;
      const target = this.settings.targetLufs;
      const ceiling = this.settings.ceilingDbtp;
      // Lossy encoders add inter-sample overs (0.1–0.7 dB at 320k on full-band, heavily limited material); starting with that
      // headroom usually saves a second master + encode pass. The file is still verified below.
      let extraHeadroomDb = info.lossless ? 0 : LOSSY_FIRST_PASS_HEADROOM_DB;
      let gainTrimDb = 0;
      let bytes: Uint8Array | null = null;
      let check: LoudnessReport | null = null;
      let mastered: MasterResult | null = null;
      let attempts = 0;
      const passes: FileCheck['passes'] = [];
      const analysisKey = crypto.randomUUID();
      // The encoder workers start ffmpeg.wasm (and for MP3 warm up its encoder) while the mix is mastered on one
      // core: a first export no longer waits for the 32 MB core to load after the master. Already warm: no-ops.
      this.#studio.jobSystem.startAhead(exportWorkers, 'Start the encoder', (api) => api.warm(format, mix.sampleRate), {
        count: format === 'mp3' ? mp3Encoders(mix.left.length, mix.sampleRate) : 1,
        signal: ctrl.signal,
      });
      for (; attempts < MAX_ENCODE_ATTEMPTS; ) {
        attempts++;
        t0 = performance.now();
        mastered = await this.#master(mix, ctrl.signal, { extraHeadroomDb, gainTrimDb, analysisKey });
        t.master_s += (performance.now() - t0) / 1000;
        t0 = performance.now();
        const m = mastered;
        const encoded = await this.#encode(m.left, m.right, mix.sampleRate, format, { title: this.title || session.name, artist: this.artist || undefined }, ctrl.signal);
        bytes = encoded.bytes;
        t.encode_s += (performance.now() - t0) / 1000;
        t0 = performance.now();
        check = await this.#verify(bytes, `${session.name}.${info.ext}`, mix.sampleRate, ctrl.signal);
        t.verify_s += (performance.now() - t0) / 1000;
        passes.push({ lufs: check.integratedLufs, truePeakDb: check.truePeakDb, headroomDb: extraHeadroomDb });
        const over = check.truePeakDb - ceiling;
        const miss = target - check.integratedLufs;
        // A silent file has no loudness to correct, and a capped gain is as loud as we will go.
        const loudnessSettled = !Number.isFinite(miss) || Math.abs(miss) <= LUFS_TOLERANCE || mastered.report.gainCapped;
        if ((over <= 0 || !Number.isFinite(over)) && loudnessSettled) break;
        // The encoder's overshoot grows with the limiting, so give the next pass all of it plus a margin.
        if (over > 0) extraHeadroomDb += 2 * over + 0.05;
        if (Number.isFinite(miss) && Math.abs(miss) > 0.2 && !mastered.report.gainCapped) gainTrimDb += miss;
      }
      const final = mastered!;
      const measured = check!;
      const silent = !Number.isFinite(measured.integratedLufs);
      const withinSpec = !silent && measured.truePeakDb <= ceiling && (Math.abs(target - measured.integratedLufs) <= LUFS_TOLERANCE || final.report.gainCapped);
      this.fileCheck = { format, lufs: measured.integratedLufs, truePeakDb: measured.truePeakDb, attempts, withinSpec, passes };
      this.report = final.report;
      this.lastTimings = t;
      for (const w of final.report.warnings) this.#studio.notify('warning', w, 'Mastering');
      if (!withinSpec && !silent && !final.report.gainCapped) {
        this.#studio.notify('warning', `The ${info.label} file measured ${measured.integratedLufs.toFixed(1)} LUFS, ${measured.truePeakDb.toFixed(2)} dBTP after ${attempts} passes.`, 'Export');
      }
      const name = `${(this.title || session.name).replace(/[\\/:*?"<>|]+/g, '_')}.${info.ext}`;
      const blob = new Blob([bytes! as Uint8Array<ArrayBuffer>], { type: info.mime });
      let rec: ExportRecord;
      try {
        rec = await saveExport({ sessionId: session.id, name, format, mime: info.mime, blob, lufs: measured.integratedLufs, truePeakDb: measured.truePeakDb });
      } catch (e) {
        if (!isStorageFull(e)) throw e;
        // The file exists, only storing it failed: offer it for download and show what uses the space.
        this.unsaved = { name, url: URL.createObjectURL(blob), bytes: blob.size };
        this.#studio.notify('error', `${name} (${(blob.size / 1e6).toFixed(1)} MB) was not stored: browser storage is full. Download it now below, or free space in Storage.`, name);
        await this.#studio.openStorageDialog(e instanceof Error ? e.message : String(e));
        await this.#setupAb(mix, final);
        return null;
      }
      await this.refreshExports();
      await this.#setupAb(mix, mastered!);
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
    const job = (l: Float32Array, r: Float32Array, t: ExportTags, label: string) =>
      this.#studio.jobSystem.run(exportWorkers, {
        label,
        signal,
        task: (api, onProgress) => api.encode(transfer({ left: l, right: r, sampleRate, format, tags: t }, [l.buffer, r.buffer]), onProgress),
      });
    const n = left.length;
    if (format !== 'mp3') return job(left.slice(), right.slice(), tags, `Encode ${info.label}`);
    // Each encoder gets copies of its range and converts it to the 16-bit PCM it encodes from, both at once.
    const bytes = await encodeMp3InHalves(n, sampleRate, async (from, to, first) => {
      const out = await this.#studio.jobSystem.run(exportWorkers, {
        label: `Encode ${info.label}${to - from < n ? (first ? ' (first half)' : ' (second half)') : ''}`,
        signal,
        task: (api, onProgress) => {
          const range = planarRange([left, right], from, to);
          return api.encodeMp3(transfer(range, range.map((c) => c.buffer)), sampleRate, first ? tags : {}, onProgress);
        },
      });
      return out.bytes;
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
    else this.#studio.notify('error', e instanceof Error ? e.message : String(e), subject);
  }
}
