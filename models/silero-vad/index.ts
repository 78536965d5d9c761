// The silero VAD as the app ships it: the 8 kHz batched form derived from the @ricky0123/vad-web file
// (scripts/silero-vad-8k.ts), a hashed asset checked before use.
import modelUrl from './silero_vad_v5_8k.onnx?url';
import meta from './meta.json';
import { errorMessage } from '../../src/shared/errors';
import { sha256Hex } from '../../src/ml/model-fetch';

export const SILERO_VAD_META = meta;
export const SILERO_VAD_KEY = `${meta.id}@${meta.version}`;

/** Checks bytes against the registry's hash; throws naming the model when they differ. */
export async function verifySileroVad(bytes: Uint8Array): Promise<Uint8Array> {
  const actual = await sha256Hex(bytes);
  if (actual !== meta.sha256) {
    throw new Error(`The voice-activity model (${meta.id} ${meta.version}) is damaged or a different version (SHA-256 ${actual.slice(0, 12)}…, expected ${meta.sha256.slice(0, 12)}…): reload the app.`);
  }
  return bytes;
}

/** The model's bytes from the app's own origin (precached by the service worker, so this works offline). */
export async function fetchSileroVad(): Promise<Uint8Array> {
  const url = new URL(modelUrl, self.location.href).href;
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`Could not load the voice-activity model from ${url}: ${errorMessage(e)}`);
  }
  if (!res.ok) throw new Error(`Could not load the voice-activity model from ${url}: HTTP ${res.status}`);
  return verifySileroVad(new Uint8Array(await res.arrayBuffer()));
}
