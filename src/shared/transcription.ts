// The vocabulary of audio→MIDI shared by the model runner, the transcription worker and its UI.

/** One transcribed note: seconds from the start of its source, MIDI key, velocity 0…1. */
export interface TranscribedNote {
  pitch: number;
  start: number;
  duration: number;
  velocity: number;
  /** Pitch-contour offsets in thirds of a semitone, evenly spread over the note (basic-pitch's contour). */
  bends?: number[];
}

/** basic-pitch's note decoding knobs; the defaults are the Python package's. */
export interface TranscriptionSettings {
  /** Onset posterior a note must reach to start (0…1). */
  onsetThreshold: number;
  /** Note posterior a note must keep to go on sounding (0…1). */
  frameThreshold: number;
  /** Shorter notes are dropped (milliseconds). */
  minNoteMs: number;
  /** Lowest and highest pitch kept (Hz), or null for the whole piano range. */
  minHz: number | null;
  maxHz: number | null;
}

export const DEFAULT_TRANSCRIPTION_SETTINGS: TranscriptionSettings = {
  onsetThreshold: 0.5,
  frameThreshold: 0.3,
  minNoteMs: 127.7,
  minHz: null,
  maxHz: null,
};

/** A source track's notes, ready to become one MIDI track. */
export interface TranscribedPart {
  name: string;
  /** General MIDI program 0…127 it plays with (0 = acoustic grand). */
  program: number;
  notes: TranscribedNote[];
}
