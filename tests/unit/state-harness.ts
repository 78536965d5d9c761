// Fake workers at the handle boundary for the desks' state tests: each handle's worker is the real worker code
// (the API object its workers/<entry>/index.ts exposes), run in this process behind a MessageChannel with comlink.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as Comlink from 'comlink';
import { JobSystem, type WorkerHandle } from '../../src/bridge/jobs';
import type { EngineHostFactory } from '../../src/features/studio/live-engine';
import type { FromEngine, ToEngine } from '../../src/shared/engine-messages';

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
export function harness(apis: Map<WorkerHandle<never>, object>): Harness {
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
