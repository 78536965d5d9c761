// The single seam to @tonejs/midi: transcribed parts → a Standard MIDI File (one track per part) and back.
import * as tonejsMidi from '@tonejs/midi';
import type { TranscribedNote, TranscribedPart } from '../shared/transcription';
import { errorMessage } from '../shared/errors';

// The package is CommonJS: Node's ESM loader sees only a default export, bundlers see named ones.
const { Midi } = ((tonejsMidi as unknown as { default?: typeof tonejsMidi }).default ?? tonejsMidi) as typeof tonejsMidi;

/** Channels for melodic parts: every channel but 10 (index 9), which General MIDI keeps for drums. */
const MELODIC_CHANNELS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15];
/** The pitch-bend range General MIDI synths assume (±2 semitones). */
const BEND_RANGE_SEMITONES = 2;

export interface MidiWriteOptions {
  bpm: number;
  name?: string;
  /** Writes each note's contour as pitch-bend events: right for monophonic parts, smears chords. */
  pitchBends?: boolean;
}

export function writeMidi(parts: readonly TranscribedPart[], opts: MidiWriteOptions): Uint8Array {
  if (!(opts.bpm >= 20 && opts.bpm <= 400)) throw new RangeError(`Tempo must be 20–400 BPM (got ${opts.bpm}).`);
  const midi = new Midi();
  midi.header.setTempo(opts.bpm);
  if (opts.name) midi.header.name = opts.name;
  parts.forEach((part, i) => {
    const track = midi.addTrack();
    track.name = part.name;
    track.channel = MELODIC_CHANNELS[i % MELODIC_CHANNELS.length];
    track.instrument.number = Math.max(0, Math.min(127, Math.round(part.program)));
    for (const n of part.notes) {
      track.addNote({ midi: n.pitch, time: n.start, duration: Math.max(n.duration, 1e-3), velocity: Math.max(1 / 127, Math.min(1, n.velocity)) });
      if (opts.pitchBends && n.bends?.length) {
        n.bends.forEach((bins, k) => {
          const value = Math.max(-1, Math.min(1, bins / 3 / BEND_RANGE_SEMITONES));
          track.addPitchBend({ time: n.start + (k * n.duration) / n.bends!.length, value });
        });
        track.addPitchBend({ time: n.start + n.duration, value: 0 });
      }
    }
  });
  return midi.toArray();
}

export interface ParsedMidi {
  bpm: number | null;
  parts: TranscribedPart[];
  duration: number;
}

/** Parses a Standard MIDI File; throws a readable error for anything else. */
export function readMidi(bytes: Uint8Array, fileName = 'the MIDI file'): ParsedMidi {
  let midi: InstanceType<typeof Midi>;
  try {
    midi = new Midi(bytes);
  } catch (e) {
    throw new Error(`${fileName} is not a readable MIDI file: ${errorMessage(e)}`);
  }
  const parts = midi.tracks
    .filter((t) => t.notes.length > 0)
    .map((t, i): TranscribedPart => ({
      name: t.name || `Track ${i + 1}`,
      program: t.instrument.number,
      notes: t.notes.map((n): TranscribedNote => ({ pitch: n.midi, start: n.time, duration: n.duration, velocity: n.velocity })),
    }));
  return { bpm: midi.header.tempos[0]?.bpm ?? null, parts, duration: midi.duration };
}
