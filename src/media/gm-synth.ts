// General MIDI rendering through spessasynth_core (Apache-2.0) and a SoundFont: the preview of a transcription and the
// audio "Add to session" stores, and the renderer the transcription eval uses, so what is measured is what is heard.
import { BasicMIDI, SoundBankLoader, SpessaSynthProcessor, SpessaSynthSequencer } from 'spessasynth_core';
import { CancelledError, errorMessage } from '../shared/errors';

export interface GmRender {
  channels: [Float32Array, Float32Array];
  sampleRate: number;
}

type SoundBank = ReturnType<typeof SoundBankLoader.fromArrayBuffer>;
let bankCache: { bytes: ArrayBuffer; bank: SoundBank } | null = null;

/** The parsed sound bank, kept for the next render with the same bytes (parsing a 14 MB SF3 takes a while). */
function soundBank(bytes: ArrayBuffer): SoundBank {
  if (bankCache?.bytes === bytes) return bankCache.bank;
  let bank: SoundBank;
  try {
    bank = SoundBankLoader.fromArrayBuffer(bytes);
  } catch (e) {
    throw new Error(`The General MIDI sound bank could not be read: ${errorMessage(e)}`);
  }
  bankCache = { bytes, bank };
  return bank;
}

const BLOCK = 128;

/**
 * Renders a Standard MIDI File to stereo at `sampleRate`, plus `tailSeconds` for releases. Reverb and chorus are off:
 * a dry render is what a producer re-voices and what the eval should hear. The result is peak-normalised to `peakDb`
 * (default −1 dBFS; null keeps the synth's own level, which is quiet for a single part).
 */
export async function renderMidi(
  midiBytes: Uint8Array,
  soundBankBytes: ArrayBuffer,
  opts: { sampleRate?: number; tailSeconds?: number; peakDb?: number | null; signal?: AbortSignal; onProgress?: (fraction: number) => void } = {},
): Promise<GmRender> {
  const sampleRate = opts.sampleRate ?? 44100;
  const synth = new SpessaSynthProcessor(sampleRate, { eventsEnabled: false, effectsEnabled: false });
  synth.soundBankManager.addSoundBank(soundBank(soundBankBytes), 'gm');
  await synth.processorInitialized;
  const seq = new SpessaSynthSequencer(synth);
  // Silence before the first note is part of the timing the notes were written with.
  seq.skipToFirstNoteOn = false;
  const copy = midiBytes.slice().buffer;
  seq.loadNewSongList([BasicMIDI.fromArrayBuffer(copy)]);
  seq.loopCount = 0;
  seq.play();
  const total = Math.max(1, Math.ceil((seq.duration + (opts.tailSeconds ?? 1.5)) * sampleRate));
  const left = new Float32Array(total);
  const right = new Float32Array(total);
  const checkEvery = BLOCK * 512;
  for (let i = 0; i < total; i += BLOCK) {
    seq.processTick();
    synth.process(left, right, i, Math.min(BLOCK, total - i));
    if (i % checkEvery === 0) {
      if (opts.signal?.aborted) throw new CancelledError();
      opts.onProgress?.(i / total);
    }
  }
  const peakDb = opts.peakDb === undefined ? -1 : opts.peakDb;
  if (peakDb !== null) {
    let peak = 0;
    for (const ch of [left, right]) for (let i = 0; i < ch.length; i++) peak = Math.max(peak, Math.abs(ch[i]));
    if (peak > 0) {
      const g = 10 ** (peakDb / 20) / peak;
      for (const ch of [left, right]) for (let i = 0; i < ch.length; i++) ch[i] *= g;
    }
  }
  opts.onProgress?.(1);
  return { channels: [left, right], sampleRate };
}
