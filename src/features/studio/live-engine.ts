// Main-thread side of the live mix engine: one AudioContext at the session rate, one worklet.
import workletUrl from '../../../workers/mix-engine/worklet.ts?worker&url';
import type { FromEngine, MeterSnapshot, ToEngine } from '../../shared/engine-messages';
import type { MixSettings } from '../../shared/mix';
import type { TrackChannels } from '../../shared/session';

export interface LiveEngineEvents {
  position: [frame: number, playing: boolean];
  meters: [meters: MeterSnapshot];
  ended: [];
  error: [message: string];
}

type Handler<K extends keyof LiveEngineEvents> = (...args: LiveEngineEvents[K]) => void;

/** Where the engine's worklet runs: the page's AudioContext, or in tests a port to a worklet stand-in. */
export interface EngineHost {
  post(msg: ToEngine, transfer: Transferable[]): void;
  /** Whether the audio thread runs (it is suspended while nothing plays). */
  readonly running: boolean;
  suspend(): Promise<void>;
  resume(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a host; it calls `onMessage` with every message of the worklet, the first being 'ready'. */
export type EngineHostFactory = (sampleRate: number, onMessage: (msg: FromEngine) => void) => Promise<EngineHost>;

/** The AudioContext at the session rate (so the worklet never resamples) with the mix-engine worklet. */
export const audioWorkletHost: EngineHostFactory = async (sampleRate, onMessage) => {
  const ctx = new AudioContext({ sampleRate, latencyHint: 'interactive' });
  await ctx.audioWorklet.addModule(workletUrl);
  const node = new AudioWorkletNode(ctx, 'mix-engine', {
    numberOfInputs: 0,
    numberOfOutputs: 1,
    outputChannelCount: [2],
  });
  node.connect(ctx.destination);
  node.port.onmessage = (ev: MessageEvent<FromEngine>) => onMessage(ev.data);
  node.onprocessorerror = () => onMessage({ type: 'error', message: 'The audio engine stopped after an internal error. Reload to restart playback.' });
  return {
    post: (msg, transfer) => node.port.postMessage(msg, transfer),
    get running() {
      return ctx.state === 'running';
    },
    suspend: () => ctx.suspend(),
    resume: () => ctx.resume(),
    close: () => ctx.close(),
  };
};

export class LiveEngine {
  readonly sampleRate: number;
  readonly #startHost: EngineHostFactory;
  #host: EngineHost | null = null;
  #ready: Promise<void> | null = null;
  #handlers = new Map<keyof LiveEngineEvents, Set<(...args: never[]) => void>>();
  #latencyFrames = 0;
  #captureWaiter: ((c: { startFrame: number; left: Float32Array; right: Float32Array }) => void) | null = null;
  #playing = false;

  constructor(sampleRate: number, host: EngineHostFactory = audioWorkletHost) {
    this.sampleRate = sampleRate;
    this.#startHost = host;
  }

  get latencyFrames(): number {
    return this.#latencyFrames;
  }

  /** Returns its own unsubscribe function. */
  on<K extends keyof LiveEngineEvents>(event: K, handler: Handler<K>): () => void {
    let set = this.#handlers.get(event);
    if (!set) this.#handlers.set(event, (set = new Set()));
    const h = handler as (...args: never[]) => void;
    set.add(h);
    return () => void set.delete(h);
  }

  #emit<K extends keyof LiveEngineEvents>(event: K, ...args: LiveEngineEvents[K]): void {
    for (const h of this.#handlers.get(event) ?? []) (h as Handler<K>)(...args);
  }

  /** Starts the host (the AudioContext and its worklet) and waits for the worklet to say it is ready. */
  start(): Promise<void> {
    this.#ready ??= (async () => {
      let ready!: () => void;
      const isReady = new Promise<void>((resolve) => (ready = resolve));
      const host = await this.#startHost(this.sampleRate, (msg) => {
        if (msg.type === 'ready') {
          this.#latencyFrames = msg.latencyFrames;
          ready();
        }
        this.#onMessage(msg);
      });
      await isReady;
      this.#host = host;
      // Until something plays, the audio thread sleeps: a running context wakes it every 128 frames for silence,
      // CPU that an import or an export beside it needs. Messages still reach the worklet while it is suspended.
      if (!this.#playing) await host.suspend();
    })();
    return this.#ready;
  }

  #onMessage(msg: FromEngine): void {
    switch (msg.type) {
      case 'position':
        this.#emit('position', msg.frame, msg.playing);
        break;
      case 'meters':
        this.#emit('meters', msg.meters);
        break;
      case 'ended':
        this.#playing = false;
        void this.#sleep();
        this.#emit('ended');
        break;
      case 'captured':
        this.#captureWaiter?.(msg);
        this.#captureWaiter = null;
        break;
      case 'error':
        this.#emit('error', msg.message);
        break;
    }
  }

  async #send(msg: ToEngine, transfer: Transferable[] = []): Promise<void> {
    await this.start();
    this.#host!.post(msg, transfer);
  }

  /** Hands the audio to the worklet; the buffers are transferred, so the caller must not keep them. */
  addTrack(id: string, channels: TrackChannels): Promise<void> {
    return this.#send({ type: 'addTrack', id, channels }, channels.map((c) => c.buffer));
  }

  removeTrack(id: string): Promise<void> {
    return this.#send({ type: 'removeTrack', id });
  }

  setMix(mix: MixSettings): Promise<void> {
    // Svelte state proxies can't be cloned; send plain data.
    return this.#send({ type: 'setMix', mix: JSON.parse(JSON.stringify(mix)) as MixSettings });
  }

  async play(frame: number): Promise<void> {
    this.#playing = true;
    await this.start();
    await this.#send({ type: 'play', frame });
    await this.#host!.resume();
  }

  async pause(): Promise<void> {
    this.#playing = false;
    await this.#send({ type: 'pause' });
    await this.#sleep();
  }

  /** Suspends the context when nothing plays (after a pause, or at the end of the session). */
  async #sleep(): Promise<void> {
    if (!this.#playing && this.#host?.running) await this.#host.suspend();
  }

  seek(frame: number): Promise<void> {
    return this.#send({ type: 'seek', frame });
  }

  setLoop(region: { start: number; end: number } | null): Promise<void> {
    return this.#send({ type: 'loop', region });
  }

  /** Captures what the worklet sends to the speakers, for the live-vs-offline null test. */
  async captureFromPlay(frames: number, fromFrame: number): Promise<{ startFrame: number; left: Float32Array; right: Float32Array }> {
    const got = new Promise<{ startFrame: number; left: Float32Array; right: Float32Array }>((r) => (this.#captureWaiter = r));
    await this.#send({ type: 'capture', frames });
    await this.play(fromFrame);
    return got;
  }

  async close(): Promise<void> {
    await this.#host?.close();
    this.#host = null;
    this.#ready = null;
  }
}
