// Separation desk: a finished stereo mix in, its stems out as the tracks of a new session. Orchestration only: the
// decode runs on the studio's decode worker, the separation on two separation workers (one half of the song each).
import { proxy, transfer } from 'comlink';
import type { Studio } from '../studio';
import { decodeWorkers, type DecodedAudio } from '../studio';
import { separationWorkers } from './workers';
import { SEPARATION_MODELS, separationModel } from './separators';
import type { SeparatedPart } from './contract';
import { contextSamples, paramsForRate } from '../../dsp/separation';
import { addSegment, overlapFor, planSegments, segmentWeights } from '../../dsp/segments';
import { UMX_CONTEXT_SAMPLES, UMX_HOP } from '../../../models/umx-vocals/runner';
import { isAbortError, errorMessage } from '../../shared/errors';
import type { JobProgress } from '../../shared/jobs';
import { MAX_SEPARATION_SECONDS, MIN_SEPARATION_SECONDS, SEPARATION_RATE, type SeparationModelMeta, type SeparationRuntime, type SeparatorSpec } from '../../shared/separation';

/** A stem this far under the mix (energy, dB) holds nothing worth a track. */
const EMPTY_STEM_DB = -50;
/** Peak under this (−100 dBFS) counts as silence. */
const SILENCE_PEAK = 1e-5;
const DEFAULT_SEGMENT_SECONDS = 30;
const MIN_SEGMENT_SECONDS = 15;
const URL_KEY = (id: string) => `separation:url:${id}`;

export interface StemSummary {
  name: string;
  /** Energy relative to the mix, dB. */
  levelDb: number;
  /** Added as a track (false: near-silent, left out). */
  added: boolean;
}

export interface SeparationOutcome {
  fileName: string;
  sessionName: string;
  modelId: string;
  runtime: SeparationRuntime;
  stems: StemSummary[];
  seconds: number;
  durationSeconds: number;
  segments: number;
  warnings: string[];
}

/** Messages that mean the worker ran out of memory (or died, which on these machines is nearly always that). */
function looksLikeMemory(e: unknown): boolean {
  return /memory|allocation failed|array buffer|out of bounds|crashed/i.test(errorMessage(e));
}

function toFloat(channels: DecodedAudio['channels']): Float32Array[] {
  return channels.map((c) => (c instanceof Float32Array ? c : Float32Array.from(c, (v) => v / 32768)));
}

function baseName(fileName: string): string {
  return fileName.replace(/\.[^./\\]+$/, '') || fileName;
}

function energy(channels: Float32Array[]): number {
  let e = 0;
  for (const c of channels) for (let i = 0; i < c.length; i++) e += c[i] * c[i];
  return e;
}

const clock = (s: number) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;

export class SeparationDesk {
  readonly models: readonly SeparationModelMeta[] = SEPARATION_MODELS;
  modelId = $state(SEPARATION_MODELS[0].id);
  /** Where each downloadable model's weights come from (the registry's URL unless changed; kept in localStorage). */
  urls = $state<Record<string, string>>({});
  file = $state.raw<File | null>(null);
  busy = $state<string | null>(null);
  progress = $state.raw<JobProgress | null>(null);
  error = $state<string | null>(null);
  outcome = $state.raw<SeparationOutcome | null>(null);
  segmentSeconds = $state(DEFAULT_SEGMENT_SECONDS);

  readonly #studio: Studio;
  #abort: AbortController | null = null;

  constructor(studio: Studio) {
    this.#studio = studio;
    const urls: Record<string, string> = {};
    for (const m of SEPARATION_MODELS) {
      const shipped = m.files[0]?.url;
      if (shipped) urls[m.id] = globalThis.localStorage?.getItem(URL_KEY(m.id)) ?? shipped;
    }
    this.urls = urls;
  }

  get model(): SeparationModelMeta {
    return separationModel(this.modelId);
  }

  setUrl(id: string, url: string): void {
    this.urls = { ...this.urls, [id]: url };
    try {
      globalThis.localStorage?.setItem(URL_KEY(id), url);
    } catch {
      // Not remembering the URL only means typing it again next time.
    }
  }

  choose(files: File[]): void {
    if (files.length > 1) this.#studio.notify('info', `Separating the first of ${files.length} files; drop the others one at a time.`, files[0].name);
    this.file = files[0] ?? null;
    this.error = null;
  }

  cancel(): void {
    this.#abort?.abort();
  }

  dispose(): void {
    this.cancel();
  }

  #spec(): SeparatorSpec {
    const m = this.model;
    if (m.files.length === 0) return { kind: 'classical' };
    const f = m.files[0];
    const { stems: _stems, tested: _tested, ...meta } = m;
    return { kind: 'umx', meta: { ...meta, files: [{ ...f, url: this.urls[m.id] ?? f.url ?? '' }] }, provider: 'auto' };
  }

  /** Decodes the chosen file, separates it and, only when that succeeds, puts the stems in a new session. */
  async separate(): Promise<SeparationOutcome | null> {
    const file = this.file;
    if (!file || this.busy) return null;
    const ctrl = new AbortController();
    this.#abort = ctrl;
    this.error = null;
    this.outcome = null;
    const started = performance.now();
    const spec = this.#spec();
    const modelId = this.modelId;
    try {
      this.busy = `Decoding ${file.name}`;
      this.progress = { fraction: null };
      const decoded = await this.#studio.jobSystem.run(decodeWorkers, {
        label: `Decode ${file.name} for separation`,
        signal: ctrl.signal,
        task: (api, onProgress) =>
          api.decode(
            file,
            file.name,
            SEPARATION_RATE,
            // A callback crosses to the worker only as a comlink proxy; the job system's own is one already.
            proxy((p: JobProgress) => {
              onProgress(p);
              this.progress = p;
            }),
          ),
      });
      const warnings = [...decoded.warnings];
      const channels = toFloat(decoded.channels);
      this.#checkInput(file.name, channels, decoded.sampleRate);
      if (channels.length === 1) {
        warnings.push(
          spec.kind === 'classical'
            ? 'The file is mono, so vocals cannot be told from other instruments by their place in the stereo image: vocals get half of the vocal band’s tonal energy.'
            : 'The file is mono: the model ran on two identical channels and the stems are mono.',
        );
      }

      this.busy = `Separating ${file.name}`;
      let parts: { part: SeparatedPart; start: number; end: number; weights: Float32Array }[];
      try {
        parts = await this.#separateParts(file.name, channels, decoded.sampleRate, spec, this.segmentSeconds, ctrl.signal);
      } catch (e) {
        if (ctrl.signal.aborted || !looksLikeMemory(e) || this.segmentSeconds / 2 < MIN_SEGMENT_SECONDS) throw e;
        // Once, with segments half as long: half the spectra alive at a time.
        const smaller = Math.max(MIN_SEGMENT_SECONDS, Math.round(this.segmentSeconds / 2));
        this.#studio.notify('warning', `The separation ran out of memory (${errorMessage(e)}); trying again with ${smaller} s segments.`, file.name);
        warnings.push(`Retried with ${smaller} s segments after running out of memory.`);
        parts = await this.#separateParts(file.name, channels, decoded.sampleRate, spec, smaller, ctrl.signal);
      }

      const length = channels[0].length;
      const names = parts[0].part.stems.map((s) => s.name);
      const stems = names.map((name, s) => {
        if (parts.length === 1) return { name, channels: parts[0].part.stems[s].channels };
        const joined = channels.map(() => new Float32Array(length));
        for (const p of parts) {
          p.part.stems[s].channels.forEach((ch, c) => addSegment(joined[c], ch, { start: p.start, end: p.end, fadeInStart: 0, fadeInEnd: 0, fadeOutStart: 0, fadeOutEnd: 0 }, p.weights));
          // Each part's copy is let go once joined, so a long song holds the parts and the stems only one stem at a time.
          p.part.stems[s].channels = [];
        }
        return { name, channels: joined };
      });
      const mixEnergy = energy(channels);
      const summary: StemSummary[] = stems.map((s) => {
        const levelDb = 10 * Math.log10(Math.max(energy(s.channels), 1e-30) / mixEnergy);
        return { name: s.name, levelDb, added: levelDb > EMPTY_STEM_DB };
      });
      const kept = stems.filter((_, i) => summary[i].added);
      const empty = summary.filter((s) => !s.added).map((s) => s.name);
      if (empty.length) warnings.push(`Nothing was found for ${empty.join(' and ')} (under ${EMPTY_STEM_DB} dB of the mix), so ${empty.length === 1 ? 'it was' : 'they were'} not added: the file may hold a single instrument.`);

      const sessionName = `${baseName(file.name)} (stems)`;
      this.busy = 'Adding the stems';
      this.progress = { fraction: null };
      if (ctrl.signal.aborted) throw new DOMException('Separation cancelled', 'AbortError');
      await this.#studio.addAudio(
        kept.map((s) => ({ name: s.name, channels: s.channels, sampleRate: decoded.sampleRate })),
        { sessionName },
      );
      const outcome: SeparationOutcome = {
        fileName: file.name,
        sessionName,
        modelId,
        runtime: parts[0].part.runtime,
        stems: summary,
        seconds: (performance.now() - started) / 1000,
        durationSeconds: length / decoded.sampleRate,
        segments: parts.reduce((n, p) => n + p.part.segments, 0),
        warnings,
      };
      for (const w of warnings) this.#studio.notify('warning', w, file.name);
      this.outcome = outcome;
      return outcome;
    } catch (e) {
      if (isAbortError(e) || ctrl.signal.aborted) {
        this.#studio.notify('info', 'Separation cancelled; the open session is unchanged.', file.name);
      } else {
        const msg = errorMessage(e);
        const reason = msg.startsWith(`${file.name}: `) ? msg.slice(file.name.length + 2) : msg;
        this.error = `${file.name}: ${reason}`;
        this.#studio.notify('error', `Not separated: ${reason} The open session is unchanged.`, file.name);
      }
      return null;
    } finally {
      if (this.#abort === ctrl) this.#abort = null;
      this.busy = null;
      this.progress = null;
    }
  }

  #checkInput(fileName: string, channels: Float32Array[], rate: number): void {
    const seconds = (channels[0]?.length ?? 0) / rate;
    if (seconds < MIN_SEPARATION_SECONDS) throw new Error(`${fileName}: it is ${seconds.toFixed(2)} s long; separation needs at least ${MIN_SEPARATION_SECONDS} s of audio.`);
    if (seconds > MAX_SEPARATION_SECONDS) {
      const gb = (seconds * rate * channels.length * 4 * 5) / 1e9;
      throw new Error(`${fileName}: it is ${clock(seconds)} long; separation takes up to ${clock(MAX_SEPARATION_SECONDS)} (this one's mix and stems would need ${gb.toFixed(1)} GB of memory). Split it into songs first.`);
    }
    let peak = 0;
    for (const c of channels) for (let i = 0; i < c.length; i++) peak = Math.max(peak, Math.abs(c[i]));
    if (peak < SILENCE_PEAK) throw new Error(`${fileName}: it is silent (peak ${peak === 0 ? '−∞' : (20 * Math.log10(peak)).toFixed(0)} dBFS); there is nothing to separate.`);
  }

  /** The song in one or two parts (one per worker), each separated in segments; parts overlap and crossfade. */
  async #separateParts(fileName: string, channels: Float32Array[], rate: number, spec: SeparatorSpec, segmentSeconds: number, signal: AbortSignal) {
    const classical = paramsForRate(rate);
    const context = spec.kind === 'classical' ? contextSamples(classical) : UMX_CONTEXT_SAMPLES;
    const align = spec.kind === 'classical' ? classical.hopSize : UMX_HOP;
    const fade = rate;
    const overlap = overlapFor(context, fade);
    const length = channels[0].length;
    // Two parts only when each is at least a segment long: shorter songs are quicker in one worker than two starts.
    const halves = length > 2 * segmentSeconds * rate;
    const plan = halves
      ? planSegments(length, { segment: Math.ceil((length + overlap) / 2 / align) * align + align, overlap, fade, align })
      : [{ start: 0, end: length, fadeInStart: 0, fadeInEnd: 0, fadeOutStart: length, fadeOutEnd: length }];
    // One part failing stops the other: its stems would be of no use.
    const local = new AbortController();
    const stop = () => local.abort();
    signal.addEventListener('abort', stop);
    const fractions = plan.map(() => 0);
    const stages = plan.map(() => '');
    try {
      return await Promise.all(
      plan.map(async (seg, index) => {
        const part = channels.map((c) => c.slice(seg.start, seg.end));
        const result = await this.#studio.jobSystem.run(separationWorkers, {
          label: `Separate ${fileName}${plan.length > 1 ? ` (part ${index + 1}/${plan.length})` : ''}`,
          signal: local.signal,
          task: (api, onProgress) =>
            api.separate(
              transfer({ channels: part, sampleRate: rate, separator: spec, segmentSeconds, part: { index, count: plan.length } }, part.map((c) => c.buffer)),
              proxy((p: JobProgress) => {
                onProgress(p);
                fractions[index] = p.fraction ?? fractions[index];
                stages[index] = p.stage ?? stages[index];
                this.progress = { fraction: fractions.reduce((a, b) => a + b, 0) / plan.length, stage: stages.filter(Boolean).join(' | ') };
              }),
            ),
        });
        return { part: result, start: seg.start, end: seg.end, weights: segmentWeights(seg) };
      }),
      );
    } catch (e) {
      local.abort();
      throw e;
    } finally {
      signal.removeEventListener('abort', stop);
    }
  }
}
