// Songs with known stems for the separation eval, the benchmark and the e2e test: each song is written as Standard
// MIDI files (one per stem: drums, bass, a sung-like lead as "vocals", the other instruments), rendered by Debian's
// fluidsynth with the FluidR3 General MIDI soundfont (MIT), and summed. Pans follow common mixing practice: lead,
// bass and kick centred, the accompaniment spread. The lead has a singer's vibrato (pitch bend, ~5.5 Hz, ±25 cents).
// Needs `apt-get install fluidsynth fluid-soundfont-gm`. Rendered files are cached under .cache/separation/.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import MidiPkg from '@tonejs/midi';
import { parseWav } from '../../src/dsp/wav';
import { REPO_ROOT } from '../automix/paths';

const { Midi } = MidiPkg as unknown as { Midi: typeof import('@tonejs/midi').Midi };
export const SOUNDFONT = '/usr/share/sounds/sf2/FluidR3_GM.sf2';
export const STEM_DIR = join(REPO_ROOT, '.cache/separation');
export const STEM_NAMES = ['drums', 'bass', 'vocals', 'other'] as const;
export type KnownStem = (typeof STEM_NAMES)[number];

export interface SongSpec {
  name: string;
  bpm: number;
  /** Root of the key as a MIDI note (e.g. 57 = A3). */
  root: number;
  bars: number;
  seed: number;
  /** General MIDI programs: the lead ("vocals") and the accompaniment's instruments with their pans (−1…1). */
  lead: number;
  others: { program: number; pan: number; role: 'chords' | 'arp' | 'pad' }[];
}

export const SONGS: SongSpec[] = [
  { name: 'pop-a', bpm: 112, root: 57, bars: 16, seed: 1, lead: 53, others: [{ program: 0, pan: -0.5, role: 'chords' }, { program: 48, pan: 0.55, role: 'pad' }] },
  { name: 'rock-e', bpm: 128, root: 52, bars: 16, seed: 2, lead: 54, others: [{ program: 29, pan: -0.7, role: 'chords' }, { program: 27, pan: 0.6, role: 'arp' }] },
  { name: 'ballad-d', bpm: 84, root: 50, bars: 12, seed: 3, lead: 52, others: [{ program: 4, pan: 0.4, role: 'arp' }, { program: 49, pan: -0.45, role: 'pad' }] },
];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** I–vi–IV–V in the song's key: chord roots as semitones above the key root, minor or major triads. */
const PROGRESSION = [
  { root: 0, minor: false },
  { root: 9, minor: true },
  { root: 5, minor: false },
  { root: 7, minor: false },
];
const MAJOR_SCALE = [0, 2, 4, 5, 7, 9, 11];

/** One MIDI file per stem for a song. */
export function songMidi(song: SongSpec): Record<KnownStem, Uint8Array> {
  const beat = 60 / song.bpm;
  const bar = 4 * beat;
  const random = rng(song.seed);
  const files = {} as Record<KnownStem, Uint8Array>;
  const make = () => {
    const m = new Midi();
    m.header.setTempo(song.bpm);
    return m;
  };

  // Drums (channel 10): kick on 1 and 3, snare on 2 and 4, closed hi-hat in eighths, a crash every 4 bars.
  {
    const m = make();
    const t = m.addTrack();
    t.channel = 9;
    for (let b = 0; b < song.bars; b++) {
      const t0 = b * bar;
      for (let q = 0; q < 4; q++) t.addNote({ midi: q % 2 === 0 ? 36 : 38, time: t0 + q * beat, duration: 0.1, velocity: q % 2 === 0 ? 0.95 : 0.85 });
      if (random() < 0.4) t.addNote({ midi: 36, time: t0 + 2.5 * beat, duration: 0.1, velocity: 0.7 });
      for (let e = 0; e < 8; e++) t.addNote({ midi: 42, time: t0 + e * beat / 2, duration: 0.05, velocity: 0.45 + 0.2 * random() });
      if (b % 4 === 0) t.addNote({ midi: 49, time: t0, duration: 0.5, velocity: 0.7 });
    }
    files.drums = m.toArray();
  }
  // Bass (fingered bass, centred): the chord root in eighths with a fifth now and then.
  {
    const m = make();
    const t = m.addTrack();
    t.channel = 0;
    t.instrument.number = 33;
    t.addCC({ number: 10, value: 0.5, time: 0 });
    for (let b = 0; b < song.bars; b++) {
      const chord = PROGRESSION[b % 4];
      const base = song.root - 24 + chord.root;
      for (let e = 0; e < 8; e++) t.addNote({ midi: base + (e === 6 && random() < 0.5 ? 7 : 0), time: b * bar + e * beat / 2, duration: beat / 2 * 0.9, velocity: 0.8 });
    }
    files.bass = m.toArray();
  }
  // Lead ("vocals", centred): a stepwise melody in the key, phrases of 3 bars with a bar's breath, with vibrato.
  {
    const m = make();
    const t = m.addTrack();
    t.channel = 0;
    t.instrument.number = song.lead;
    t.addCC({ number: 10, value: 0.5, time: 0 });
    let degree = 7;
    for (let b = 0; b < song.bars; b++) {
      if (b % 4 === 3) continue;
      let at = b * bar;
      while (at < (b + 1) * bar - 1e-6) {
        const len = [beat, beat, beat / 2, 2 * beat][Math.floor(random() * 4)];
        degree = Math.max(3, Math.min(12, degree + Math.round((random() - 0.5) * 4)));
        const note = song.root + 12 * Math.floor(degree / 7) + MAJOR_SCALE[degree % 7];
        const dur = Math.min(len, (b + 1) * bar - at);
        t.addNote({ midi: note, time: at, duration: dur * 0.95, velocity: 0.85 });
        at += dur;
      }
    }
    // Pitch bend range is ±2 semitones: ±25 cents is ±0.125.
    const end = song.bars * bar;
    for (let time = 0; time < end; time += 0.02) t.addPitchBend({ time, value: 0.125 * Math.sin(2 * Math.PI * 5.5 * time) });
    files.vocals = m.toArray();
  }
  // Other: the accompaniment instruments, each panned, playing the progression as chords, arpeggios or pads.
  {
    const m = make();
    for (const [i, o] of song.others.entries()) {
      const t = m.addTrack();
      t.channel = i + 1;
      t.instrument.number = o.program;
      t.addCC({ number: 10, value: (o.pan + 1) / 2, time: 0 });
      for (let b = 0; b < song.bars; b++) {
        const c = PROGRESSION[b % 4];
        const r = song.root - 12 + c.root;
        const triad = [r, r + (c.minor ? 3 : 4), r + 7];
        if (o.role === 'pad') for (const n of triad) t.addNote({ midi: n, time: b * bar, duration: bar * 0.98, velocity: 0.55 });
        else if (o.role === 'chords') for (let q = 0; q < 4; q++) for (const n of triad) t.addNote({ midi: n + 12, time: b * bar + q * beat, duration: beat * 0.8, velocity: 0.6 });
        else for (let s = 0; s < 8; s++) t.addNote({ midi: triad[s % 3] + 12 * (1 + Math.floor(s / 3) % 2), time: b * bar + s * beat / 2, duration: beat / 2 * 0.9, velocity: 0.6 });
      }
    }
    files.other = m.toArray();
  }
  return files;
}

export interface KnownStemSong {
  name: string;
  sampleRate: number;
  stems: Record<KnownStem, Float32Array[]>;
  mix: Float32Array[];
}

/** Renders (or reads from the cache) a song's stems at 44.1 kHz stereo, trimmed to one length, and their sum. */
export function renderSong(song: SongSpec): KnownStemSong {
  if (!existsSync(SOUNDFONT)) throw new Error(`${SOUNDFONT} is missing: apt-get install -y fluidsynth fluid-soundfont-gm`);
  const dir = join(STEM_DIR, song.name);
  mkdirSync(dir, { recursive: true });
  const midi = songMidi(song);
  const stems = {} as Record<KnownStem, Float32Array[]>;
  for (const s of STEM_NAMES) {
    const wav = join(dir, `${s}.wav`);
    const mid = join(dir, `${s}.mid`);
    const bytes = Buffer.from(midi[s]);
    // Re-rendered when the MIDI changed.
    if (!existsSync(wav) || !existsSync(mid) || !readFileSync(mid).equals(bytes)) {
      writeFileSync(mid, bytes);
      execFileSync('fluidsynth', ['-ni', '-q', '-g', '0.6', '-r', '44100', '-F', wav, '-T', 'wav', '-O', 's16', SOUNDFONT, mid], { stdio: ['ignore', 'ignore', 'inherit'] });
    }
    const audio = parseWav(new Uint8Array(readFileSync(wav)));
    stems[s] = audio.channels.length === 2 ? audio.channels : [audio.channels[0], audio.channels[0].slice()];
  }
  const length = Math.min(...STEM_NAMES.map((s) => stems[s][0].length));
  for (const s of STEM_NAMES) stems[s] = stems[s].map((c) => c.slice(0, length));
  const mix = [0, 1].map((c) => {
    const m = new Float32Array(length);
    for (const s of STEM_NAMES) for (let i = 0; i < length; i++) m[i] += stems[s][c][i];
    return m;
  });
  return { name: song.name, sampleRate: 44_100, stems, mix };
}
