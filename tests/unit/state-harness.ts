// Fake workers at the handle boundary for the desks' state tests: each handle's worker is the real worker code
// (the API object its workers/<entry>/index.ts exposes), run in this process behind a MessageChannel with comlink.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as Comlink from 'comlink';
import { deleteDB } from 'idb';
import { JobSystem, type WorkerHandle } from '../../src/bridge/jobs';
import { Studio } from '../../src/features/studio';
import { analysisWorkers, decodeWorkers, renderWorkers } from '../../src/features/studio/workers';
import { decodeWorker } from '../../src/features/studio/worker/decode';
import { renderWorker } from '../../src/features/studio/worker/render';
import { analysisWorker } from '../../src/features/studio/worker/analysis';
import { mlWorkers } from '../../src/features/automix/workers';
import { mlWorker } from '../../src/features/automix/worker/ml';
import { exportWorkers } from '../../src/features/mastering/workers';
import { closeDb } from '../../src/storage/db';
import { DB_NAME } from '../../src/storage/schema';
import type { EngineHostFactory } from '../../src/features/studio/live-engine';
import type { FromEngine, ToEngine } from '../../src/shared/engine-messages';
import type { EncodedExport, ExportWorkerApi } from '../../src/features/mastering/contract';
import { EXPORT_FORMATS, type ExportFormat, type ExportTags } from '../../src/shared/export';
import { interleavePcm16 } from '../../src/dsp/pcm16';

// The worker global scope the worker code reads: `self.location`, from which ORT's wasm paths are resolved.
(globalThis as { self?: unknown }).self ??= globalThis;
(globalThis as { location?: unknown }).location ??= new URL('http://127.0.0.1/');
// Assets the worker code fetches from "our origin" (the DSP kernels' wasm) are read from the repository.
const networkFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const url = input instanceof URL ? input : new URL(typeof input === 'string' ? input : input.url);
  if (url.protocol === 'file:') return new Response(await readFile(fileURLToPath(url)));
  return networkFetch(input, init);
};

/** A Worker's surface as the job system uses it, with `api` exposed on the far end of a MessageChannel. */
class ChannelWorker extends EventTarget {
  #port: MessagePort;
  terminated = false;
  constructor(api: object) {
    super();
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    port1.addEventListener('message', (ev) => this.dispatchEvent(new MessageEvent('message', { data: (ev as MessageEvent).data })));
    port1.start();
    Comlink.expose(api, port2);
  }
  postMessage(data: unknown, transfer?: Transferable[]): void {
    this.#port.postMessage(data, transfer ?? []);
  }
  terminate(): void {
    this.terminated = true;
    this.#port.close();
  }
}

export interface Harness {
  jobs: JobSystem;
  /** How many workers each handle (by name) started. */
  started: Map<string, number>;
}

/** A job system whose handles run the given worker APIs in-process; a handle without one fails its job, named. */
export function harness(apis: Map<WorkerHandle<never>, object> = workerCode()): Harness {
  const started = new Map<string, number>();
  const jobs = new JobSystem({
    create: (handle) => {
      const api = apis.get(handle as WorkerHandle<never>);
      if (!api) throw new Error(`No worker code for the ${handle.name} handle in this test`);
      started.set(handle.name, (started.get(handle.name) ?? 0) + 1);
      return new ChannelWorker(api) as unknown as Worker;
    },
  });
  return { jobs, started };
}

/** The live engine's worklet stand-in: says it is ready and records what the studio sends it. */
export function recordingEngineHost(): { host: EngineHostFactory; sent: ToEngine[] } {
  const sent: ToEngine[] = [];
  const host: EngineHostFactory = async (_rate, onMessage: (msg: FromEngine) => void) => {
    let running = false;
    queueMicrotask(() => onMessage({ type: 'ready', latencyFrames: 128 }));
    return {
      post: (msg) => void sent.push(msg),
      get running() {
        return running;
      },
      suspend: async () => void (running = false),
      resume: async () => void (running = true),
      close: async () => void (running = false),
    };
  };
  return { host, sent };
}

/**
 * The speakers' stand-in for the A/B players (src/bridge/ab-player.ts): an AudioContext whose clock the test moves
 * with `advance(seconds)`, with the buffer, gain and source nodes the players use. It plays nothing.
 */
export class ManualAudioContext {
  static last: ManualAudioContext | null = null;
  readonly sampleRate: number;
  readonly destination = {};
  currentTime = 0;
  state: 'running' | 'suspended' | 'closed' = 'suspended';
  constructor(opts: { sampleRate?: number } = {}) {
    this.sampleRate = opts.sampleRate ?? 44100;
    ManualAudioContext.last = this;
  }
  advance(seconds: number): void {
    if (this.state === 'running') this.currentTime += seconds;
  }
  async resume(): Promise<void> {
    this.state = 'running';
  }
  async suspend(): Promise<void> {
    this.state = 'suspended';
  }
  async close(): Promise<void> {
    this.state = 'closed';
  }
  createBuffer(channels: number, length: number, sampleRate: number) {
    const data = Array.from({ length: channels }, () => new Float32Array(length));
    return { duration: length / sampleRate, length, numberOfChannels: channels, copyToChannel: (src: Float32Array, c: number) => data[c].set(src), getChannelData: (c: number) => data[c] };
  }
  createGain() {
    const param = { value: 1, cancelScheduledValues() {}, setValueAtTime() {}, linearRampToValueAtTime(v: number) { param.value = v; } };
    return { gain: param, connect() {}, disconnect() {} };
  }
  createBufferSource() {
    return { buffer: null as unknown, loop: false, loopStart: 0, loopEnd: 0, onended: null as null | (() => void), connect() {}, disconnect() {}, start() {}, stop() {} };
  }
}

/** Installs ManualAudioContext as the global AudioContext for the A/B players. */
export function useManualAudioContext(): void {
  (globalThis as { AudioContext?: unknown }).AudioContext = ManualAudioContext;
}

/**
 * The export worker's contract on Debian's native ffmpeg (the same libmp3lame, FLAC and WAV encoders as the app's
 * ffmpeg.wasm core, which needs a browser Worker): encodes planar floats or 16-bit PCM, and decodes files back.
 */
export const nativeExportWorker: ExportWorkerApi = {
  async encode({ left, right, sampleRate, format, tags }) {
    return encodeNative(interleaveFloat([left, right]), 'f32le', 2, sampleRate, format, tags);
  },
  async encodeMp3(channels, sampleRate, tags) {
    const { samples } = interleavePcm16(channels);
    return encodeNative(new Uint8Array(samples.buffer), 's16le', channels.length, sampleRate, 'mp3', tags);
  },
  async warm() {},
  async decodeFile(bytes, _fileName, sampleRate) {
    const out = execFileSync('ffmpeg', ['-v', 'error', '-i', 'pipe:0', '-f', 'f32le', '-ac', '2', '-ar', String(sampleRate), 'pipe:1'], { input: bytes, maxBuffer: 1 << 30 });
    const all = new Float32Array(out.buffer, out.byteOffset, out.byteLength / 4);
    const left = new Float32Array(all.length / 2);
    const right = new Float32Array(all.length / 2);
    for (let i = 0; i < left.length; i++) {
      left[i] = all[2 * i];
      right[i] = all[2 * i + 1];
    }
    return { left, right };
  },
};

function interleaveFloat(channels: Float32Array[]): Uint8Array {
  const n = channels[0].length;
  const out = new Float32Array(n * channels.length);
  for (let i = 0; i < n; i++) for (let c = 0; c < channels.length; c++) out[i * channels.length + c] = channels[c][i];
  return new Uint8Array(out.buffer);
}

function encodeNative(pcm: Uint8Array, sample: 'f32le' | 's16le', channels: number, rate: number, format: ExportFormat, tags: ExportTags): EncodedExport {
  const info = EXPORT_FORMATS[format];
  const codec = { mp3: ['-c:a', 'libmp3lame', '-b:a', '320k'], wav: ['-c:a', 'pcm_s24le'], flac: ['-c:a', 'flac'] }[format as 'mp3' | 'wav' | 'flac'];
  const meta = Object.entries(tags).flatMap(([k, v]) => (v ? ['-metadata', `${k}=${v}`] : []));
  // To a file, not a pipe: the MP3's Info (Xing) tag, which the splice reads, is written once the encode is done.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'export-'));
  const out = path.join(dir, `out.${info.ext}`);
  execFileSync('ffmpeg', ['-v', 'error', '-f', sample, '-ar', String(rate), '-ac', String(channels), '-i', 'pipe:0', ...codec, ...meta, out], { input: pcm, maxBuffer: 1 << 30 });
  const bytes = readFileSync(out);
  rmSync(dir, { recursive: true });
  return { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), mime: info.mime, ext: info.ext };
}

/** The worker code behind each handle: the app's own, but for ffmpeg.wasm's export worker (native ffmpeg). */
export function workerCode(): Map<WorkerHandle<never>, object> {
  return new Map<WorkerHandle<never>, object>([
    [decodeWorkers as WorkerHandle<never>, decodeWorker],
    [renderWorkers as WorkerHandle<never>, renderWorker],
    [analysisWorkers as WorkerHandle<never>, analysisWorker],
    [mlWorkers as WorkerHandle<never>, mlWorker],
    [exportWorkers as WorkerHandle<never>, nativeExportWorker],
  ]);
}

/** A studio on the in-process workers and the recording engine host, with what it started and sent. */
export function testStudio(): { studio: Studio; started: Map<string, number>; sent: ToEngine[] } {
  const { jobs, started } = harness();
  const engine = recordingEngineHost();
  return { studio: new Studio(jobs, { engineHost: engine.host }), started, sent: engine.sent };
}

/** An empty app database, and the A/B players on the manual clock. */
export async function freshApp(): Promise<void> {
  useManualAudioContext();
  await closeDb();
  await deleteDB(DB_NAME);
}

/** Stereo white noise at `amp` (deterministic for a seed). */
export function noise(seconds: number, amp: number, seed: number, rate = 44100): Float32Array[] {
  let x = seed;
  const ch = Float32Array.from({ length: Math.round(seconds * rate) }, () => {
    x = (x * 1103515245 + 12345) >>> 0;
    return amp * ((x / 2 ** 32) * 2 - 1);
  });
  return [ch, ch.slice()];
}

/** A stereo 16-bit WAV file of a sine at `amp` (0…1 of full scale), as a user's file pick. */
export function sineWavFile(name: string, { freq = 220, amp = 0.37, seconds = 1, rate = 44100 }: { freq?: number; amp?: number; seconds?: number; rate?: number } = {}): File {
  const n = Math.round(rate * seconds);
  const bytes = new Uint8Array(44 + n * 4);
  const v = new DataView(bytes.buffer);
  const tag = (at: number, t: string) => [...t].forEach((c, i) => (bytes[at + i] = c.charCodeAt(0)));
  tag(0, 'RIFF');
  v.setUint32(4, bytes.length - 8, true);
  tag(8, 'WAVEfmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, 2, true);
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * 4, true);
  v.setUint16(32, 4, true);
  v.setUint16(34, 16, true);
  tag(36, 'data');
  v.setUint32(40, n * 4, true);
  for (let i = 0; i < n; i++) {
    const x = Math.round(32767 * amp * Math.sin((2 * Math.PI * freq * i) / rate));
    v.setInt16(44 + 4 * i, x, true);
    v.setInt16(46 + 4 * i, x, true);
  }
  return new File([bytes], name, { type: 'audio/wav' });
}
