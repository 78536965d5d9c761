// Per-stem analysis of one rendered song: the app's own TrackFeatures (src/dsp/track-features.ts)
// plus the mean power spectrum, which lets training apply an EQ corruption to the features
// (scripts/automix/corruption.ts) without filtering and re-analysing the audio.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrackFeatures } from '../../src/shared/features';
import { forEachPowerFrame } from '../../src/dsp/stft';
import { integratedLoudness } from '../../src/dsp/loudness';
import { analyseTrack, TRACK_FEATURES_VERSION } from '../../src/dsp/track-features';
import { parseWav } from '../../src/dsp/wav';

/** Bump with any change here or in TRACK_FEATURES_VERSION: `npm run data` recomputes older caches. */
export const SONG_FEATURES_VERSION = 200 + TRACK_FEATURES_VERSION;
/** 4096 points at 44.1 kHz: the 10.8 Hz bins of the app's 2048 points at 22.05 kHz. */
export const SPECTRUM_FFT = 4096;
export const SPECTRUM_RATE = 44_100;
/** Bins up to 22.05 kHz: loudness hears all of them. */
export const SPECTRUM_BINS = SPECTRUM_FFT / 2 + 1;
/** Bins up to 11.025 kHz, the top of the app's spectral analysis (22.05 kHz rate). */
export const ANALYSIS_BINS = SPECTRUM_FFT / 4 + 1;

export interface StemFeatures {
  /** File name inside the song's stems/ folder. */
  file: string;
  features: TrackFeatures;
  /** Mean power spectrum of the mono downmix over all frames (dB, 10·log10, floored at −200), SPECTRUM_BINS values. */
  meanPowerDb: number[];
}

export interface SongFeatures {
  version: number;
  slug: string;
  /** Duration of the stems (s). */
  seconds: number;
  /** Integrated loudness of the musician's full mix (LUFS): the stems' common reference across songs. */
  mixLufs?: number;
  stems: StemFeatures[];
}

export function readWavFile(path: string): { channels: Float32Array[]; sampleRate: number } {
  try {
    return parseWav(new Uint8Array(readFileSync(path)));
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

/** Mean power spectrum of the mono downmix (hop = half a frame: the average needs no finer step). */
export function meanPowerSpectrumDb(channels: Float32Array[], sampleRate: number): number[] {
  if (sampleRate !== SPECTRUM_RATE) throw new RangeError(`mean spectrum expects ${SPECTRUM_RATE} Hz stems, got ${sampleRate}`);
  const mono = new Float32Array(channels[0].length);
  for (const ch of channels) for (let i = 0; i < mono.length; i++) mono[i] += ch[i] / channels.length;
  const sum = new Float64Array(SPECTRUM_BINS);
  let frames = 0;
  forEachPowerFrame(
    mono,
    (power) => {
      for (let k = 0; k < SPECTRUM_BINS; k++) sum[k] += power[k];
      frames++;
    },
    { fftSize: SPECTRUM_FFT, hopSize: SPECTRUM_FFT / 2 },
  );
  return Array.from(sum, (p) => Math.round(100 * Math.max(-200, 10 * Math.log10(p / Math.max(1, frames) + 1e-30))) / 100);
}

export function analyseSongFolder(slug: string, songDir: string): SongFeatures {
  const stemsDir = join(songDir, 'stems');
  const files = readdirSync(stemsDir).filter((f) => f.toLowerCase().endsWith('.wav')).sort();
  const stems: StemFeatures[] = [];
  let seconds = 0;
  for (const file of files) {
    const { channels, sampleRate } = readWavFile(join(stemsDir, file));
    seconds = Math.max(seconds, channels[0].length / sampleRate);
    stems.push({ file, features: analyseTrack(channels, sampleRate), meanPowerDb: meanPowerSpectrumDb(channels, sampleRate) });
  }
  return { version: SONG_FEATURES_VERSION, slug, seconds, mixLufs: mixLoudness(songDir), stems };
}

export function mixLoudness(songDir: string): number {
  const { channels, sampleRate } = readWavFile(join(songDir, 'mix.wav'));
  return integratedLoudness(channels, sampleRate);
}
