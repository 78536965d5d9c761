// Writes the demo session (public/demo/): a 16-bar loop in A minor at 120 BPM, as four stems
// synthesized here from a seeded PRNG, so it is ours to license (CC0-1.0) and identical every build.
import { mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const OUT = 'public/demo';
const RATE = 44100;
const BPM = 120;
const BEAT = 60 / BPM;
const BARS = 16;
const SECONDS = BARS * 4 * BEAT;
const N = Math.round(SECONDS * RATE);
const VERSION = 2;

if (existsSync(join(OUT, 'demo.json')) && JSON.parse(readFileSync(join(OUT, 'demo.json'), 'utf8')).version === VERSION) process.exit(0);

let seed = 20261121;
const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
const midiHz = (m) => 440 * Math.pow(2, (m - 69) / 12);

function wav16(channels) {
  const frames = channels[0].length;
  const ch = channels.length;
  const buf = Buffer.alloc(44 + frames * ch * 2);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + frames * ch * 2, 4);
  buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(ch, 22);
  buf.writeUInt32LE(RATE, 24);
  buf.writeUInt32LE(RATE * ch * 2, 28);
  buf.writeUInt16LE(ch * 2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(frames * ch * 2, 40);
  let o = 44;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < ch; c++) {
      const v = Math.max(-1, Math.min(1, channels[c][i]));
      buf.writeInt16LE(Math.round(v * 32767), o);
      o += 2;
    }
  }
  return buf;
}

/** One-pole low-pass in place, cutoff in Hz. */
function lowpass(x, hz) {
  const a = Math.exp((-2 * Math.PI * hz) / RATE);
  let y = 0;
  for (let i = 0; i < x.length; i++) x[i] = y = (1 - a) * x[i] + a * y;
}

// Am – F – C – G, one chord per bar, four times.
const CHORDS = [
  [57, 60, 64],
  [53, 57, 60],
  [48, 52, 55],
  [55, 59, 62],
];

function drums() {
  const l = new Float32Array(N);
  const r = new Float32Array(N);
  const hit = (start, len, fn, panL, panR) => {
    const s0 = Math.round(start * RATE);
    for (let i = 0; i < Math.round(len * RATE) && s0 + i < N; i++) {
      const v = fn(i / RATE);
      l[s0 + i] += v * panL;
      r[s0 + i] += v * panR;
    }
  };
  for (let b = 0; b < BARS * 4; b++) {
    const t = b * BEAT;
    // Kick on every beat: a falling sine.
    hit(t, 0.35, (x) => 0.9 * Math.sin(2 * Math.PI * (50 * x + 90 * (1 - Math.exp(-x * 25)) / 25)) * Math.exp(-x * 9), 1, 1);
    // Snare on 2 and 4: noise plus a body tone.
    if (b % 2 === 1) hit(t, 0.25, (x) => (0.45 * rand() + 0.3 * Math.sin(2 * Math.PI * 190 * x)) * Math.exp(-x * 18), 0.9, 1);
    // Hats on eighths, panned a little right.
    for (const off of [0, BEAT / 2]) hit(t + off, 0.06, (x) => 0.18 * rand() * Math.exp(-x * 70), 0.6, 1);
  }
  return [l, r];
}

function bass() {
  const x = new Float32Array(N);
  for (let bar = 0; bar < BARS; bar++) {
    const root = CHORDS[bar % 4][0] - 24;
    for (let e = 0; e < 8; e++) {
      const note = e === 6 ? root + 7 : root;
      const s0 = Math.round((bar * 4 + e / 2) * BEAT * RATE);
      const len = Math.round(BEAT * 0.45 * RATE);
      const f = midiHz(note);
      for (let i = 0; i < len && s0 + i < N; i++) {
        const t = i / RATE;
        const saw = 2 * ((t * f) % 1) - 1;
        x[s0 + i] += (0.5 * saw + 0.6 * Math.sin(2 * Math.PI * f * t)) * Math.min(1, t / 0.005) * Math.exp(-t * 3);
      }
    }
  }
  lowpass(x, 500);
  // Deliberately quiet: the mix needs the fader up.
  for (let i = 0; i < N; i++) x[i] *= 0.35;
  return [x];
}

function chords() {
  const l = new Float32Array(N);
  const r = new Float32Array(N);
  for (let bar = 0; bar < BARS; bar++) {
    const s0 = Math.round(bar * 4 * BEAT * RATE);
    const len = Math.round(4 * BEAT * RATE);
    for (const [k, m] of CHORDS[bar % 4].entries()) {
      const f = midiHz(m);
      for (let i = 0; i < len && s0 + i < N; i++) {
        const t = i / RATE;
        const env = Math.min(1, t / 0.3) * Math.min(1, (len / RATE - t) / 0.2);
        const a = 2 * ((t * f * 1.003) % 1) - 1;
        const b = 2 * ((t * f * 0.997 + 0.25 * k) % 1) - 1;
        l[s0 + i] += 0.09 * env * a;
        r[s0 + i] += 0.09 * env * b;
      }
    }
  }
  lowpass(l, 2200);
  lowpass(r, 2200);
  return [l, r];
}

function lead() {
  const x = new Float32Array(N);
  // A simple A-minor pentatonic line, two bars repeated with a variation.
  const phrase = [76, 74, 72, 69, 72, 74, 76, 79, 76, 74, 72, 74, 72, 69, 67, 69];
  for (let bar = 4; bar < BARS; bar++) {
    for (let e = 0; e < 4; e++) {
      const note = phrase[((bar % 4) * 4 + e) % phrase.length];
      const s0 = Math.round((bar * 4 + e) * BEAT * RATE);
      const len = Math.round(BEAT * 0.9 * RATE);
      const f = midiHz(note);
      for (let i = 0; i < len && s0 + i < N; i++) {
        const t = i / RATE;
        const vib = 1 + 0.004 * Math.sin(2 * Math.PI * 5.5 * t);
        const sq = Math.sin(2 * Math.PI * f * vib * t) + 0.3 * Math.sin(6 * Math.PI * f * vib * t);
        x[s0 + i] += sq * Math.min(1, t / 0.01) * Math.exp(-t * 2.2);
      }
    }
  }
  // Deliberately too loud: the mix needs the fader down.
  for (let i = 0; i < N; i++) x[i] *= 0.55;
  return [x];
}

mkdirSync(OUT, { recursive: true });
const stems = [
  ['drums.wav', 'drums', drums()],
  ['bass.wav', 'bass', bass()],
  ['chords.wav', 'chords', chords()],
  ['lead.wav', 'lead', lead()],
];
for (const [file, , ch] of stems) writeFileSync(join(OUT, file), wav16(ch));
writeFileSync(
  join(OUT, 'demo.json'),
  JSON.stringify(
    {
      version: VERSION,
      name: 'Demo session',
      stems: stems.map(([file, name]) => ({ file, name })),
      licence: 'CC0-1.0, synthesized by scripts/make-demo.mjs',
    },
    null,
    2,
  ),
);
console.log(`make-demo: ${stems.length} stems, ${SECONDS.toFixed(1)} s each, in ${OUT}/`);
