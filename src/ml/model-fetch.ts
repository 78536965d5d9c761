// Model weights by URL: downloaded once with progress, checked against the registry's SHA-256,
// cached in IndexedDB, and checked again on every load so a corrupted cache entry is fetched anew.
import { errorMessage, UserFacingError } from '../shared/errors';
import { singleModelFile, type ModelMeta } from '../shared/model-meta';
import { deleteCachedModel, getCachedModel, putCachedModel } from '../storage/models';

export interface ModelSource {
  /** Cache key: the registry id. */
  id: string;
  version: string;
  url: string;
  /** Lowercase hex SHA-256 of the file. */
  sha256: string;
  /** Expected size, for progress when the server sends no Content-Length. */
  sizeBytes: number | null;
}

export interface ModelFetchProgress {
  loaded: number;
  total: number | null;
  stage: 'cache' | 'download' | 'verify';
}

export type ModelFetchEvent =
  | { kind: 'cache-hit' }
  | { kind: 'cache-corrupt' }
  | { kind: 'downloaded'; bytes: number }
  | { kind: 'cache-write-failed'; reason: string };

export class ModelIntegrityError extends UserFacingError {
  constructor(source: ModelSource, actual: string) {
    super(
      `The weights of model "${source.id}" from ${source.url} do not match the registry ` +
        `(SHA-256 ${actual.slice(0, 12)}…, expected ${source.sha256.slice(0, 12)}…). ` +
        'The file is damaged or a different version; nothing was cached.',
      source.id,
    );
    this.name = 'ModelIntegrityError';
  }
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Where a registry entry's one file comes from: its own URL, else `appUrl` (the copy that ships with the app). */
export function registrySource(meta: ModelMeta, appUrl: string): ModelSource {
  const file = singleModelFile(meta);
  return { id: meta.id, version: meta.version, url: file.url ?? appUrl, sha256: file.sha256, sizeBytes: file.sizeBytes };
}

/** The bytes, if they are the file the source names; ModelIntegrityError otherwise. */
export async function verifyModelBytes(source: ModelSource, bytes: Uint8Array): Promise<Uint8Array> {
  const actual = await sha256Hex(bytes);
  if (actual !== source.sha256) throw new ModelIntegrityError(source, actual);
  return bytes;
}

/**
 * The model's bytes, from the IndexedDB cache when its hash still matches, else from `url`.
 * Throws ModelIntegrityError when the download's hash is wrong, and a UserFacingError naming the
 * model and URL when the network fails. A full storage quota does not fail the load: the weights
 * are used uncached and `onEvent` says so.
 */
export async function fetchModelBytes(
  source: ModelSource,
  opts: { signal?: AbortSignal; onProgress?: (p: ModelFetchProgress) => void; onEvent?: (e: ModelFetchEvent) => void } = {},
): Promise<Uint8Array> {
  const { signal, onProgress, onEvent } = opts;
  const cached = await getCachedModel(source.id).catch(() => undefined);
  if (cached && cached.version === source.version && cached.sha256 === source.sha256) {
    onProgress?.({ loaded: 0, total: cached.bytes, stage: 'verify' });
    const bytes = new Uint8Array(cached.data);
    if ((await sha256Hex(bytes)) === source.sha256) {
      onEvent?.({ kind: 'cache-hit' });
      onProgress?.({ loaded: cached.bytes, total: cached.bytes, stage: 'cache' });
      return bytes;
    }
    onEvent?.({ kind: 'cache-corrupt' });
  }
  if (cached) await deleteCachedModel(source.id).catch(() => undefined);

  const bytes = await download(source, signal, onProgress);
  onProgress?.({ loaded: bytes.byteLength, total: bytes.byteLength, stage: 'verify' });
  await verifyModelBytes(source, bytes);
  onEvent?.({ kind: 'downloaded', bytes: bytes.byteLength });
  try {
    await putCachedModel({
      id: source.id,
      version: source.version,
      sha256: source.sha256,
      bytes: bytes.byteLength,
      data: bytes.slice().buffer,
      fetchedAt: Date.now(),
    });
  } catch (e) {
    onEvent?.({ kind: 'cache-write-failed', reason: errorMessage(e) });
  }
  return bytes;
}

async function download(source: ModelSource, signal: AbortSignal | undefined, onProgress?: (p: ModelFetchProgress) => void): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(source.url, { signal, cache: 'no-store' });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new UserFacingError(
      `Could not download model "${source.id}" from ${source.url}: the network is unreachable or the host does not allow this app to fetch it.`,
      source.id,
    );
  }
  if (!response.ok) {
    throw new UserFacingError(`Could not download model "${source.id}" from ${source.url}: the server answered ${response.status} ${response.statusText}.`, source.id);
  }
  const header = Number(response.headers.get('content-length'));
  const total = Number.isFinite(header) && header > 0 ? header : source.sizeBytes;
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    onProgress?.({ loaded, total, stage: 'download' });
  }
  const bytes = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return bytes;
}
