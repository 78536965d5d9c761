// Export worker: encodes the master with ffmpeg.wasm and decodes the file back for the post-encode loudness check.
// One job at a time; cancelling terminates it, the only way to stop an encode inside WASM.
import { transfer } from 'comlink';
import { parseWav, WavFormatError } from '../../../dsp/wav';
import { interleavePcm16 } from '../../../dsp/pcm16';
import { decodeToPcm, encodeAudio, loadFfmpegCore, warmMp3Encoder } from '../../../media/ffmpeg';
import { EncodeError, EXPORT_FORMATS } from '../../../shared/export';
import { wholePercents, type ProgressCallback } from '../../../shared/jobs';
import type { ExportWorkerApi } from '../contract';

function percentReporter(onProgress: ProgressCallback, stage: string): (fraction: number) => void {
  const report = wholePercents(onProgress);
  return (fraction) => report({ fraction, stage });
}

function toStereo(channels: Float32Array[]): { left: Float32Array; right: Float32Array } {
  // Our exports are stereo; a mono file is measured as the same signal on both sides.
  return { left: channels[0], right: channels.length > 1 ? channels[1] : channels[0].slice() };
}

/** WAV is read in TypeScript (exact, no 32 MB core needed); anything else, or an odd WAV, goes through ffmpeg. */
function readOwnWav(bytes: Uint8Array, sampleRate: number): Float32Array[] | null {
  try {
    const wav = parseWav(bytes);
    return wav.sampleRate === sampleRate && wav.channels.length <= 2 ? wav.channels : null;
  } catch (e) {
    if (e instanceof WavFormatError) return null;
    throw e;
  }
}

export const exportWorker: ExportWorkerApi = {
  async encode({ left, right, sampleRate, format, tags }, onProgress) {
    const info = EXPORT_FORMATS[format];
    if (!info) throw new EncodeError(`unknown export format "${String(format)}"`);
    const report = percentReporter(onProgress, `encoding ${info.label}`);
    report(0);
    const bytes = await encodeAudio([left, right], sampleRate, format, tags, report);
    return transfer({ bytes, mime: info.mime, ext: info.ext }, [bytes.buffer as ArrayBuffer]);
  },

  async encodeMp3(channels, sampleRate, tags, onProgress) {
    const info = EXPORT_FORMATS.mp3;
    const report = percentReporter(onProgress, `encoding ${info.label}`);
    report(0);
    const bytes = await encodeAudio(interleavePcm16(channels), sampleRate, 'mp3', tags, report);
    return transfer({ bytes, mime: info.mime, ext: info.ext }, [bytes.buffer as ArrayBuffer]);
  },

  async warm(format, sampleRate) {
    if (format === 'mp3') await warmMp3Encoder(sampleRate, 2);
    else await loadFfmpegCore();
  },

  async decodeFile(bytes, fileName, sampleRate, onProgress) {
    const report = percentReporter(onProgress, 'decoding the export');
    report(0);
    const channels = readOwnWav(bytes, sampleRate) ?? (await decodeToPcm(bytes, fileName, sampleRate, report)).channels;
    report(1);
    const stereo = toStereo(channels);
    return transfer(stereo, [stereo.left.buffer as ArrayBuffer, stereo.right.buffer as ArrayBuffer]);
  },
};

