// basic-pitch as the app ships it: the ONNX file converted from the npm package's tfjs model (scripts/basic-pitch-onnx.ts),
// a hashed asset checked before use. Its registry entry is read here only, so the switch to models/registry.ts is one line.
import modelUrl from './basic-pitch.onnx?url';
import meta from './meta.json';
import { errorMessage } from '../../src/shared/errors';

export const BASIC_PITCH_META = meta;
export const BASIC_PITCH_FILE = meta.files[0];
export const BASIC_PITCH_KEY = `${meta.id}@${BASIC_PITCH_FILE.sha256.slice(0, 16)}`;

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Checks bytes against the registry's hash; throws naming the model when they differ. */
export async function verifyBasicPitch(bytes: Uint8Array): Promise<Uint8Array> {
  const actual = await sha256Hex(bytes);
  if (actual !== BASIC_PITCH_FILE.sha256) {
    throw new Error(`The transcription model (${meta.id} ${meta.version}) is damaged or a different version (SHA-256 ${actual.slice(0, 12)}…, expected ${BASIC_PITCH_FILE.sha256.slice(0, 12)}…): reload the app.`);
  }
  return bytes;
}

/** The model's bytes from the app's own origin (precached by the service worker, so this works offline). */
export async function fetchBasicPitch(): Promise<Uint8Array> {
  const url = new URL(modelUrl, self.location.href).href;
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`Could not load the transcription model from ${url}: ${errorMessage(e)}`);
  }
  if (!res.ok) throw new Error(`Could not load the transcription model from ${url}: HTTP ${res.status}`);
  return verifyBasicPitch(new Uint8Array(await res.arrayBuffer()));
}
