// Sample-synchronous A/B playback of rendered versions: all sources run together, and switching
// only crossfades their gains, so the playhead never moves and nothing clicks.
export interface AbSource {
  left: Float32Array;
  right: Float32Array;
  /** Linear gain that loudness-matches this source to the others. */
  gain: number;
}

const CROSSFADE_S = 0.03;

export class AbPlayer {
  #ctx: AudioContext | null = null;
  #buffers: AudioBuffer[] = [];
  #gains: GainNode[] = [];
  #nodes: AudioBufferSourceNode[] = [];
  #sources: AbSource[] = [];
  #active = 0;
  #startedAt = 0;
  #offset = 0;
  #playing = false;
  #loop: { start: number; end: number } | null = null;
  readonly sampleRate: number;

  constructor(sampleRate: number) {
    this.sampleRate = sampleRate;
  }

  get active(): number {
    return this.#active;
  }

  get playing(): boolean {
    return this.#playing;
  }

  get duration(): number {
    return this.#buffers[0]?.duration ?? 0;
  }

  /** Current position in seconds (wrapped into the loop when one is set). */
  get position(): number {
    if (!this.#ctx || !this.#playing) return this.#offset;
    let t = this.#offset + this.#ctx.currentTime - this.#startedAt;
    if (this.#loop && t >= this.#loop.end) {
      const len = this.#loop.end - this.#loop.start;
      t = this.#loop.start + ((t - this.#loop.start) % len);
    }
    return Math.min(t, this.duration);
  }

  /** The audio clock in seconds: advances only while the context really renders, so listening time can be counted on it. */
  get clock(): number {
    return this.#ctx?.currentTime ?? 0;
  }

  /** Moves the playhead; playback (if running) continues from there, all sources still aligned. */
  seek(seconds: number): void {
    let t = Math.min(Math.max(0, seconds), this.duration);
    // Past the loop's end a looping source would jump back anyway; start the loop from its top.
    if (this.#loop && t >= this.#loop.end) t = this.#loop.start;
    if (!this.#playing) {
      this.#offset = t;
      return;
    }
    this.#stopNodes();
    this.#start(t);
  }

  #context(): AudioContext {
    this.#ctx ??= new AudioContext({ sampleRate: this.sampleRate, latencyHint: 'interactive' });
    return this.#ctx;
  }

  setSources(sources: AbSource[]): void {
    this.stop();
    const ctx = this.#context();
    this.#sources = sources;
    this.#buffers = sources.map((s) => {
      const b = ctx.createBuffer(2, s.left.length, this.sampleRate);
      b.copyToChannel(s.left as Float32Array<ArrayBuffer>, 0);
      b.copyToChannel(s.right as Float32Array<ArrayBuffer>, 1);
      return b;
    });
    this.#active = Math.min(this.#active, sources.length - 1);
    this.#offset = 0;
  }

  setLoop(loop: { start: number; end: number } | null): void {
    const pos = this.position;
    this.#loop = loop && loop.end - loop.start > 0.05 ? loop : null;
    if (this.#playing) {
      this.#stopNodes();
      this.#start(this.#loop && (pos < this.#loop.start || pos >= this.#loop.end) ? this.#loop.start : pos);
    }
  }

  async play(from = this.position): Promise<void> {
    const ctx = this.#context();
    await ctx.resume();
    this.#stopNodes();
    this.#start(from >= this.duration ? 0 : from);
  }

  #start(from: number): void {
    const ctx = this.#context();
    const when = ctx.currentTime + 0.02;
    this.#gains = this.#buffers.map((_, i) => {
      const g = ctx.createGain();
      g.gain.value = i === this.#active ? this.#sources[i].gain : 0;
      g.connect(ctx.destination);
      return g;
    });
    this.#nodes = this.#buffers.map((b, i) => {
      const n = ctx.createBufferSource();
      n.buffer = b;
      if (this.#loop) {
        n.loop = true;
        n.loopStart = this.#loop.start;
        n.loopEnd = this.#loop.end;
      }
      n.connect(this.#gains[i]);
      // One start time for all sources keeps them sample-aligned.
      n.start(when, from);
      return n;
    });
    this.#nodes[0].onended = () => {
      if (this.#playing && !this.#loop) {
        this.#playing = false;
        this.#offset = 0;
      }
    };
    this.#startedAt = when;
    this.#offset = from;
    this.#playing = true;
  }

  /** Switches to source i with a short equal-time crossfade; the playhead keeps running. */
  select(i: number): void {
    if (i < 0 || i >= this.#buffers.length) return;
    this.#active = i;
    if (!this.#ctx || !this.#playing) return;
    const now = this.#ctx.currentTime;
    this.#gains.forEach((g, k) => {
      g.gain.cancelScheduledValues(now);
      g.gain.setValueAtTime(g.gain.value, now);
      g.gain.linearRampToValueAtTime(k === i ? this.#sources[k].gain : 0, now + CROSSFADE_S);
    });
  }

  pause(): void {
    if (!this.#playing) return;
    this.#offset = this.position;
    this.#stopNodes();
    this.#playing = false;
  }

  stop(): void {
    this.#stopNodes();
    this.#playing = false;
    this.#offset = 0;
  }

  #stopNodes(): void {
    for (const n of this.#nodes) {
      n.onended = null;
      try {
        n.stop();
      } catch {
        // already stopped
      }
      n.disconnect();
    }
    for (const g of this.#gains) g.disconnect();
    this.#nodes = [];
    this.#gains = [];
  }

  async close(): Promise<void> {
    this.stop();
    await this.#ctx?.close();
    this.#ctx = null;
  }
}

/** Gains that bring every source to the quietest one's integrated loudness (never boost into clipping). */
export function loudnessMatchGains(lufs: number[]): number[] {
  const finite = lufs.filter(Number.isFinite);
  if (finite.length === 0) return lufs.map(() => 1);
  const target = Math.min(...finite);
  return lufs.map((l) => (Number.isFinite(l) ? Math.pow(10, (target - l) / 20) : 1));
}
