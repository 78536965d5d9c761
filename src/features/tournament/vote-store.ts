// Tournament votes in IndexedDB. Each vote carries its own `synced` flag, so the sync outbox is the
// votes store itself: a vote and its queue entry are one record and can never disagree.
import { MAX_BATCH_VOTES, parseVoteBatch, VoteValidationError, type Vote } from '../../shared/votes';
import { kvGetOrPut } from '../../storage/kv';
import { addNewVoteRecords, listVoteRecords, putVoteRecord, updateVoteRecords } from '../../storage/votes';
import type { SyncSettings } from '../../shared/vote-sync';

/** A vote as stored: the vote itself plus whether the endpoint has acknowledged it. */
export type StoredVote = Vote & { synced: boolean };

declare module '../../storage/kv' {
  interface KvSchema {
    /** This browser's random id, sent with votes so the endpoint can tell voters apart. */
    'tournament.clientId': string;
    /** The endpoint sync settings as last saved (older apps saved fewer fields). */
    'tournament.sync': Partial<SyncSettings>;
  }
}

/** The vote as it travels (export files, the endpoint): without the local `synced` flag. */
export function toVote(v: StoredVote): Vote {
  const { synced: _synced, ...vote } = v;
  return vote;
}

function isStoredVote(v: unknown): v is StoredVote {
  const r = v as Partial<StoredVote> | null;
  return typeof r === 'object' && r !== null && typeof r.id === 'string' && typeof r.a === 'string' && typeof r.b === 'string' && typeof r.winner === 'string' && typeof r.ts === 'number';
}

export function saveVote(vote: Vote): Promise<void> {
  return putVoteRecord({ ...vote, synced: false });
}

/** Every local vote, oldest first. Records of another shape (an older app's) are left out, never thrown on. */
export async function listVotes(): Promise<StoredVote[]> {
  const votes: StoredVote[] = [];
  for (const v of (await listVoteRecords()) as unknown[]) if (isStoredVote(v)) votes.push({ ...v, synced: v.synced === true });
  return votes.sort((x, y) => x.ts - y.ts || (x.id < y.id ? -1 : 1));
}

/** The oldest votes the endpoint has not acknowledged yet, at most `limit`. */
export async function unsyncedVotes(limit: number): Promise<Vote[]> {
  const pending: Vote[] = [];
  for (const v of await listVotes()) {
    if (!v.synced) pending.push(toVote(v));
    if (pending.length >= limit) break;
  }
  return pending;
}

export async function countUnsynced(): Promise<number> {
  return (await listVotes()).filter((v) => !v.synced).length;
}

/** Marks votes acknowledged by the endpoint, in one transaction. */
export function markSynced(ids: readonly string[]): Promise<void> {
  return updateVoteRecords(ids, (rec) => (rec.synced === true ? undefined : { ...rec, synced: true }));
}

/** Adds votes from an export file in one transaction; ids already stored are skipped, never overwritten. */
export function importVotes(votes: readonly Vote[]): Promise<{ added: number; duplicates: number }> {
  // Unsynced: the endpoint deduplicates by id, so votes it already has cost one "duplicate".
  return addNewVoteRecords(votes.map((v) => ({ ...v, synced: false })));
}

/** This browser's random client id, created on first use (in one transaction, so two tabs agree). */
export function localClientId(): Promise<string> {
  return kvGetOrPut('tournament.clientId', () => crypto.randomUUID(), (id) => typeof id === 'string' && id !== '');
}

function hex(buf: ArrayBuffer): string {
  return [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * SHA-256 fingerprint of a session's audio, never the audio itself. Each track's channels are hashed
 * (digest needs one buffer, and a long session does not fit in one), the track hashes are sorted so
 * import order does not matter, and their concatenation is hashed again.
 */
export async function sessionFingerprint(tracks: readonly (readonly Float32Array[])[]): Promise<string> {
  const trackHashes: string[] = [];
  for (const channels of tracks) {
    const parts: string[] = [];
    for (const ch of channels) {
      const bytes = ch.buffer instanceof ArrayBuffer ? new Uint8Array(ch.buffer, ch.byteOffset, ch.byteLength) : new Uint8Array(ch.slice().buffer);
      parts.push(hex(await crypto.subtle.digest('SHA-256', bytes)));
    }
    trackHashes.push(hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${channels.length}:${parts.join(',')}`))));
  }
  trackHashes.sort();
  return hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(trackHashes.join('\n'))));
}

/**
 * The votes of an export file (`{"votes":[…]}`, any number of them), each checked with the protocol's
 * schema; batches of MAX_BATCH_VOTES go through parseVoteBatch, and an error names the file and the field.
 */
export function parseVoteFile(body: unknown, fileName: string): Vote[] {
  const list = (body as { votes?: unknown } | null)?.votes;
  if (typeof body !== 'object' || body === null || !Array.isArray(list)) {
    throw new Error(`${fileName} is not an AI Mixer votes file: expected a JSON object {"votes": [...]}.`);
  }
  if (list.length === 0) throw new Error(`${fileName} contains no votes.`);
  const votes: Vote[] = [];
  for (let start = 0; start < list.length; start += MAX_BATCH_VOTES) {
    try {
      votes.push(...parseVoteBatch({ votes: list.slice(start, start + MAX_BATCH_VOTES) }));
    } catch (e) {
      if (!(e instanceof VoteValidationError)) throw e;
      // Field paths count from the start of the file, not of the batch.
      const field = e.field.replace(/^votes\.(\d+)/, (_, i: string) => `votes.${Number(i) + start}`);
      throw new Error(`${fileName} has an invalid vote at ${field}: ${e.reason}. Nothing was imported.`);
    }
  }
  return votes;
}
