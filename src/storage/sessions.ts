import { isPcm16, type EncodedChannels, type SessionRecord, type TrackAudio, type TrackChannels } from '../shared/session';
import { openDb, writeAtomically } from './db';
import { kvDelete, kvGet, kvPut, txKv } from './kv';
import { wrapQuota } from './quota';
import type { StoredTrackAudio } from './schema';
import { exactPcm16, pcm16ToFloat32 } from '../dsp/pcm16';

/** Saves the session record alone (mix moves, renames, playhead); audio is written by addTracks. */
export function saveSession(rec: SessionRecord): Promise<void> {
  return wrapQuota(async () => {
    await (await openDb()).put('sessions', rec);
  });
}

export async function loadSession(id: string): Promise<SessionRecord | undefined> {
  return (await openDb()).get('sessions', id);
}

/** Most recently edited first. */
export async function listSessions(): Promise<SessionRecord[]> {
  const all = await (await openDb()).getAll('sessions');
  return all.sort((a, b) => b.updatedAt - a.updatedAt);
}

/** Removes the session with its audio and exports; if it was the open one, nothing is open after. */
export function deleteSession(id: string): Promise<void> {
  return wrapQuota(() =>
    writeAtomically(['sessions', 'trackAudio', 'exports', 'kv'], async (tx) => {
      const audio = tx.objectStore('trackAudio');
      const exports = tx.objectStore('exports');
      const kv = txKv(tx.objectStore('kv'));
      const [audioKeys, exportKeys, currentId] = await Promise.all([
        audio.index('sessionId').getAllKeys(id),
        exports.index('sessionId').getAllKeys(id),
        kv.get('currentSessionId'),
      ]);
      await Promise.all([
        tx.objectStore('sessions').delete(id),
        ...audioKeys.map((key) => audio.delete(key)),
        ...exportKeys.map((key) => exports.delete(key)),
        currentId === id ? kv.delete('currentSessionId') : undefined,
      ]);
    }),
  );
}

/**
 * Writes the updated session record and the new tracks' audio in one transaction, so a reload
 * never finds a track without audio or audio without its track.
 */
export function addTracks(session: SessionRecord, audio: TrackAudio[]): Promise<void> {
  const trackIds = new Set(session.tracks.map((t) => t.id));
  for (const a of audio) {
    if (a.sessionId !== session.id || !trackIds.has(a.trackId)) {
      return Promise.reject(new Error(`Audio for track ${a.trackId} does not belong to session ${session.id}`));
    }
  }
  const stored = audio.map(toStored);
  return wrapQuota(() =>
    writeAtomically(['sessions', 'trackAudio'], async (tx) => {
      // One at a time: a put that throws synchronously then leaves no earlier request unawaited.
      await tx.objectStore('sessions').put(session);
      for (const a of stored) await tx.objectStore('trackAudio').put(a);
    }),
  );
}

/** Drops the track from the session (list and mix) and deletes its audio; returns the updated record. */
export function removeTrack(sessionId: string, trackId: string): Promise<SessionRecord | undefined> {
  return wrapQuota(() =>
    writeAtomically(['sessions', 'trackAudio'], async (tx) => {
      const sessions = tx.objectStore('sessions');
      const session = await sessions.get(sessionId);
      await tx.objectStore('trackAudio').delete([sessionId, trackId]);
      if (!session) return undefined;
      const { [trackId]: _removed, ...keptSettings } = session.mix.tracks;
      const updated: SessionRecord = {
        ...session,
        tracks: session.tracks.filter((t) => t.id !== trackId),
        mix: { ...session.mix, tracks: keptSettings },
        updatedAt: Date.now(),
      };
      await sessions.put(updated);
      return updated;
    }),
  );
}

/** A track's channels as stored: 16-bit integers (x / 32768) for exactly-16-bit audio, floats otherwise. */
export interface StoredChannels {
  sampleRate: number;
  channels: { encoding: 'i16'; data: Int16Array<ArrayBuffer>[] } | { encoding: 'f32'; data: Float32Array<ArrayBuffer>[] };
}

/** The track's channels as stored, without a float copy of 16-bit ones. */
export async function loadStoredChannels(sessionId: string, trackId: string): Promise<StoredChannels | undefined> {
  const [read] = await openStoredChannels(sessionId, [trackId]);
  return read?.();
}

/**
 * The stored records of several tracks in one transaction, each with a function that reads its audio (undefined for a
 * track without audio). The records hold only handles: a caller can read one track's bytes while it works on another,
 * and hold one or two tracks in memory rather than all.
 */
export async function openStoredChannels(sessionId: string, trackIds: string[]): Promise<(undefined | (() => Promise<StoredChannels>))[]> {
  const tx = (await openDb()).transaction('trackAudio');
  const records = await Promise.all(trackIds.map((id) => tx.store.get([sessionId, id])));
  return records.map((stored) => {
    if (!stored) return undefined;
    return async () => {
      const buffers = await Promise.all(stored.channels.map((c) => (c instanceof ArrayBuffer ? c : c.arrayBuffer())));
      return {
        sampleRate: stored.sampleRate,
        // Records written before 'encoding' existed are float32.
        channels:
          stored.encoding === 'i16' ? { encoding: 'i16', data: buffers.map((b) => new Int16Array(b)) } : { encoding: 'f32', data: buffers.map((b) => new Float32Array(b)) },
      };
    };
  });
}

/** The track's channels as Float32Arrays: views over the stored buffers, or converted from 16-bit ones. */
export async function loadTrackAudio(sessionId: string, trackId: string): Promise<(TrackAudio & { channels: Float32Array[] }) | undefined> {
  const stored = await loadStoredChannels(sessionId, trackId);
  if (!stored) return undefined;
  const { channels } = stored;
  return { sessionId, trackId, sampleRate: stored.sampleRate, channels: channels.encoding === 'i16' ? channels.data.map(pcm16ToFloat32) : channels.data };
}

export async function getCurrentSessionId(): Promise<string | undefined> {
  const id = await kvGet('currentSessionId');
  return typeof id === 'string' ? id : undefined;
}

/** `undefined` forgets the open session, e.g. after the user closes it. */
export function setCurrentSessionId(id: string | undefined): Promise<void> {
  return id === undefined ? kvDelete('currentSessionId') : kvPut('currentSessionId', id);
}

function toStored(audio: TrackAudio): StoredTrackAudio {
  const { sessionId, trackId, sampleRate } = audio;
  const encoded = audio.encoded;
  if (encoded && encodedMatches(encoded, audio.channels)) {
    const bytes = encoded.channels.reduce((sum, b) => sum + b.size, 0);
    return { sessionId, trackId, sampleRate, channels: encoded.channels as Blob[], encoding: encoded.encoding, bytes };
  }
  // Exactly-16-bit audio (16-bit WAV, most stems) is stored at half the size: half the bytes to
  // write on import and to read on every render, and the same samples back.
  const pcm16 = isPcm16(audio.channels) ? audio.channels : exactPcm16(audio.channels);
  const channels = (pcm16 ?? audio.channels).map((channel) =>
    // A view that covers its whole ArrayBuffer is stored as is; partial views and shared memory are copied.
    channel.buffer instanceof ArrayBuffer && channel.byteOffset === 0 && channel.byteLength === channel.buffer.byteLength
      ? channel.buffer
      : channel.slice().buffer,
  );
  const bytes = channels.reduce((sum, b) => sum + b.byteLength, 0);
  return { sessionId, trackId, sampleRate, channels, encoding: pcm16 ? 'i16' : 'f32', bytes };
}

/** The decoder's Blobs are used only if they are Blobs of the channels' exact sizes. */
function encodedMatches(encoded: EncodedChannels, channels: TrackChannels): boolean {
  const bytesPerSample = encoded.encoding === 'i16' ? 2 : 4;
  return (
    typeof Blob !== 'undefined' &&
    encoded.channels.length === channels.length &&
    encoded.channels.every((b, c) => b instanceof Blob && b.size === channels[c].length * bytesPerSample)
  );
}
