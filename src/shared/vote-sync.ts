// The pure half of vote sync: endpoint addresses, retry timing and what a failure means to the user.
import * as v from 'valibot';

/** What the user configures; sync is off until they turn it on. */
export interface SyncSettings {
  enabled: boolean;
  /** Base URL of an endpoint that speaks the /v1 protocol, e.g. https://votes.example.org. */
  url: string;
  /** Optional bearer token. */
  token: string;
}

export const DEFAULT_SYNC_SETTINGS: SyncSettings = { enabled: false, url: '', token: '' };

/** Votes per POST: small enough for any body limit, large enough that a backlog drains in a few requests. */
export const SYNC_BATCH_SIZE = 100;
export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_MAX_MS = 5 * 60_000;

/** The endpoint's URL for a protocol path; throws a message for the settings form when the base is unusable. */
export function endpointUrl(base: string, path: '/v1/votes' | '/v1/leaderboard' | '/v1/health'): string {
  const trimmed = base.trim().replace(/\/+$/, '');
  // No URL class here (src/shared has no DOM); the browser's fetch does the full parsing.
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(trimmed)?.[1]?.toLowerCase();
  if (!scheme) throw new Error(`"${base}" is not a URL; enter the endpoint's address, e.g. https://votes.example.org`);
  if (scheme !== 'https' && scheme !== 'http') throw new Error(`"${base}" must start with https:// (or http:// for a local endpoint).`);
  if (!/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/i.test(trimmed)) throw new Error(`"${base}" is not a URL; enter the endpoint's address without spaces, query or fragment.`);
  return `${trimmed}${path}`;
}

/**
 * Delay before retry number `attempt` (0-based): exponential with "equal jitter" (half fixed, half
 * random), so many clients coming back online at once do not retry in lockstep.
 */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, Math.min(attempt, 30)));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

export interface SyncFailure {
  /** True when trying again later may succeed (network, server error, rate limit). */
  retry: boolean;
  message: string;
}

/** What a failed request means, in words a user can act on. `status` is absent when no response came. */
export function describeSyncFailure(status: number | undefined, detail = ''): SyncFailure {
  const why = detail ? `: ${detail}` : '';
  if (status === undefined) return { retry: true, message: `The endpoint cannot be reached (network down or the server is off)${why}` };
  if (status === 401 || status === 403) return { retry: false, message: `The endpoint refused the token (HTTP ${status}); check the token in the sync settings${why}` };
  if (status === 404) return { retry: false, message: `No vote endpoint at this URL (HTTP 404); check the address in the sync settings${why}` };
  if (status === 408 || status === 429) return { retry: true, message: `The endpoint asked to slow down (HTTP ${status})${why}` };
  if (status === 413) return { retry: false, message: `The endpoint rejected the batch as too large (HTTP 413)${why}` };
  if (status >= 400 && status < 500) return { retry: false, message: `The endpoint rejected the votes (HTTP ${status})${why}` };
  return { retry: true, message: `The endpoint failed (HTTP ${status})${why}` };
}

const ACK = v.object({ accepted: v.pipe(v.number(), v.integer(), v.minValue(0)), duplicates: v.pipe(v.number(), v.integer(), v.minValue(0)) });

/** The endpoint's answer to POST /v1/votes; throws when it is not the protocol's `{accepted, duplicates}`. */
export function parseVoteAck(body: unknown): { accepted: number; duplicates: number } {
  const r = v.safeParse(ACK, body);
  if (!r.success) throw new Error('The endpoint answered, but not with {"accepted","duplicates"}; is this a vote endpoint?');
  return r.output;
}
