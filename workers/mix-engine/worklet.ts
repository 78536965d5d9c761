// Live playback runs the very MixEngine the offline renderer uses, so the two agree by construction.
import { MixEngine, RENDER_QUANTUM } from '../../src/dsp/mix-engine';
import type { FromEngine, ToEngine } from '../../src/shared/engine-messages';
import { errorMessage } from '../../src/shared/errors';

declare const sampleRate: number;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor(options?: unknown);
}
declare function registerProcessor(name: string, ctor: new (options?: unknown) => AudioWorkletProcessor): void;

const REPORT_EVERY_BLOCKS = 16; // ~46 ms at 44.1 kHz: smooth meters without flooding the port

class MixEngineProcessor extends AudioWorkletProcessor {
  #engine = new MixEngine(sampleRate);
  #playing = false;
  #frame = 0;
  #loop: { start: number; end: number } | null = null;
  #blocks = 0;
  #capture: { left: Float32Array; right: Float32Array; written: number; startFrame: number; armed: boolean } | null = null;

  constructor(options?: unknown) {
    super(options);
    this.port.onmessage = (ev: MessageEvent<ToEngine>) => this.#onMessage(ev.data);
    this.#post({ type: 'ready', latencyFrames: this.#engine.latencyFrames });
  }

  #post(msg: FromEngine, transfer: Transferable[] = []): void {
    this.port.postMessage(msg, transfer);
  }

  #onMessage(msg: ToEngine): void {
    try {
      switch (msg.type) {
        case 'addTrack':
          this.#engine.addTrack({ id: msg.id, channels: msg.channels });
          break;
        case 'removeTrack':
          this.#engine.removeTrack(msg.id);
          break;
        case 'setMix':
          this.#engine.setMix(msg.mix);
          break;
        case 'play':
          this.#frame = Math.max(0, Math.floor(msg.frame));
          this.#engine.reset();
          this.#playing = true;
          if (this.#capture) {
            this.#capture.armed = true;
            this.#capture.startFrame = this.#frame;
          }
          break;
        case 'pause':
          this.#playing = false;
          this.#post({ type: 'position', frame: this.#frame, playing: false });
          break;
        case 'seek':
          this.#frame = Math.max(0, Math.floor(msg.frame));
          this.#engine.reset();
          this.#post({ type: 'position', frame: this.#frame, playing: this.#playing });
          break;
        case 'loop':
          this.#loop = msg.region && msg.region.end - msg.region.start >= RENDER_QUANTUM ? msg.region : null;
          break;
        case 'capture':
          this.#capture = {
            left: new Float32Array(msg.frames),
            right: new Float32Array(msg.frames),
            written: 0,
            startFrame: 0,
            armed: false,
          };
          break;
      }
    } catch (e) {
      this.#post({ type: 'error', message: errorMessage(e) });
    }
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const out = outputs[0];
    const left = out[0];
    const right = out[1] ?? out[0];
    const n = left.length;
    if (!this.#playing) {
      left.fill(0);
      if (right !== left) right.fill(0);
      return true;
    }
    let done = 0;
    while (done < n) {
      let todo = n - done;
      if (this.#loop && this.#frame < this.#loop.end) todo = Math.min(todo, this.#loop.end - this.#frame);
      this.#engine.process(this.#frame, left.subarray(done, done + todo), right.subarray(done, done + todo), todo);
      this.#frame += todo;
      done += todo;
      if (this.#loop && this.#frame >= this.#loop.end) this.#frame = this.#loop.start;
    }
    this.#record(left, right, n);
    if (!this.#loop && this.#frame >= this.#engine.length + this.#engine.latencyFrames) {
      this.#playing = false;
      this.#post({ type: 'ended' });
    }
    if (++this.#blocks % REPORT_EVERY_BLOCKS === 0 || !this.#playing) {
      this.#post({ type: 'position', frame: this.#frame, playing: this.#playing });
      this.#post({ type: 'meters', meters: this.#engine.readMeters() });
    }
    return true;
  }

  #record(left: Float32Array, right: Float32Array, n: number): void {
    const c = this.#capture;
    if (!c || !c.armed) return;
    const take = Math.min(n, c.left.length - c.written);
    c.left.set(left.subarray(0, take), c.written);
    c.right.set(right.subarray(0, take), c.written);
    c.written += take;
    if (c.written >= c.left.length) {
      this.#capture = null;
      this.#post({ type: 'captured', startFrame: c.startFrame, left: c.left, right: c.right }, [c.left.buffer, c.right.buffer]);
    }
  }
}

registerProcessor('mix-engine', MixEngineProcessor);
