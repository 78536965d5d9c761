// Optional vote sync to a /v1 endpoint: off by default; unsynced votes wait in IndexedDB and go in
// batches whenever the app is open and online.
//
// Why not Workbox background sync: it replays requests from the service worker, which Chromium alone
// supports (Background Sync API), and it would copy the queue into a second store beside the votes.
// Here the queue is the votes store itself (a `synced` flag), flushed at startup, on `online`, after
// each vote and on a timer with exponential backoff and jitter. That covers every browser, needs the
// app open (the tournament is only played with it open anyway) and keeps the service worker a plain
// precache. Re-sending is harmless: the endpoint deduplicates by vote id, and a vote is marked synced
// only after a 2xx.
import { backoffDelay, describeSyncFailure, endpointUrl, parseVoteAck, DEFAULT_SYNC_SETTINGS, SYNC_BATCH_SIZE, type SyncSettings } from '../../shared/vote-sync';
import { parseLeaderboardResponse, type LeaderboardResponse } from '../../shared/votes';
import { errorMessage } from '../../shared/errors';
import { kvGet, kvPut } from '../../storage/kv';
import { countUnsynced, markSynced, unsyncedVotes } from './vote-store';

const SETTINGS_KEY = 'tournament.sync';
const REQUEST_TIMEOUT_MS = 20_000;

export type SyncState = 'off' | 'idle' | 'sending' | 'offline' | 'waiting' | 'error';

class HttpFailure extends Error {
  constructor(
    readonly status: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

export class VoteSync {
  settings = $state<SyncSettings>({ ...DEFAULT_SYNC_SETTINGS });
  state = $state<SyncState>('off');
  /** Local votes the endpoint has not acknowledged. */
  pending = $state(0);
  /** The last failure, in words; null after a success. */
  error = $state<string | null>(null);
  /** When the next automatic retry happens (ms since epoch), while waiting. */
  retryAt = $state<number | null>(null);
  lastSyncedAt = $state<number | null>(null);
  global = $state.raw<LeaderboardResponse | null>(null);
  globalError = $state<string | null>(null);
  globalFetchedAt = $state<number | null>(null);

  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | null = null;
  #again = false;
  #started = false;
  readonly #onOnline = () => {
    // Back online: the backoff was about the outage, so try at once.
    this.#attempt = 0;
    void this.flush();
  };
  readonly #onOffline = () => {
    if (this.settings.enabled) this.state = 'offline';
  };

  /** Loads the settings and the queue, listens for connectivity, and sends what waits. */
  async init(): Promise<void> {
    const stored = await kvGet(SETTINGS_KEY);
    if (stored) this.settings = { ...DEFAULT_SYNC_SETTINGS, ...stored };
    this.pending = await countUnsynced();
    if (!this.#started) {
      this.#started = true;
      window.addEventListener('online', this.#onOnline);
      window.addEventListener('offline', this.#onOffline);
    }
    this.state = this.settings.enabled ? 'idle' : 'off';
    if (this.settings.enabled) {
      void this.flush();
      void this.fetchGlobal();
    }
  }

  dispose(): void {
    clearTimeout(this.#timer);
    if (!this.#started) return;
    window.removeEventListener('online', this.#onOnline);
    window.removeEventListener('offline', this.#onOffline);
    this.#started = false;
  }

  /** Saves new settings (validating the URL when sync is on), then syncs with them. */
  async configure(next: SyncSettings): Promise<void> {
    const settings = { enabled: next.enabled, url: next.url.trim(), token: next.token.trim() };
    if (settings.enabled) endpointUrl(settings.url, '/v1/votes'); // throws a message for the form
    await kvPut(SETTINGS_KEY, settings);
    this.settings = settings;
    clearTimeout(this.#timer);
    this.retryAt = null;
    this.#attempt = 0;
    this.error = null;
    this.global = null;
    this.globalError = null;
    this.state = settings.enabled ? 'idle' : 'off';
    if (settings.enabled) {
      await this.flush();
      await this.fetchGlobal();
    }
  }

  /** A vote was stored: count it and send it if sync is on. */
  async voteAdded(): Promise<void> {
    this.pending = await countUnsynced();
    await this.flush();
  }

  /** Sends every unsynced vote in batches; one run at a time, a call during a run schedules one more. */
  flush(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.#send();
        } while (this.#again);
      } finally {
        this.#running = null;
      }
    })();
    return this.#running;
  }

  async #send(): Promise<void> {
    if (!this.settings.enabled) {
      this.state = 'off';
      return;
    }
    clearTimeout(this.#timer);
    this.retryAt = null;
    this.pending = await countUnsynced();
    if (this.pending === 0) {
      this.state = 'idle';
      return;
    }
    if (typeof navigator !== 'undefined' && navigator.onLine === false) {
      // The `online` event will flush; no point burning retries meanwhile.
      this.state = 'offline';
      return;
    }
    this.state = 'sending';
    let sentAny = false;
    try {
      const url = endpointUrl(this.settings.url, '/v1/votes');
      const sent = new Set<string>();
      for (;;) {
        const batch = await unsyncedVotes(SYNC_BATCH_SIZE);
        if (batch.length === 0) break;
        // A vote still unsynced after its 2xx means marking failed; stop rather than post it forever.
        if (sent.has(batch[0].id)) throw new Error('Votes the endpoint accepted could not be marked as synced in browser storage; they will be re-sent later (the endpoint skips duplicates).');
        for (const v of batch) sent.add(v.id);
        const body = await this.#request(url, { method: 'POST', body: JSON.stringify({ votes: batch }) });
        parseVoteAck(body);
        // Only a 2xx with the protocol's answer marks votes synced; anything else leaves them queued.
        await markSynced(batch.map((v) => v.id));
        sentAny = true;
        this.pending = await countUnsynced();
      }
      this.#attempt = 0;
      this.error = null;
      this.state = 'idle';
      this.lastSyncedAt = Date.now();
    } catch (e) {
      const failure = e instanceof HttpFailure ? describeSyncFailure(e.status, e.message) : { retry: false, message: errorMessage(e) };
      this.error = failure.message;
      if (failure.retry) {
        const delay = backoffDelay(this.#attempt++);
        this.retryAt = Date.now() + delay;
        this.state = navigator.onLine === false ? 'offline' : 'waiting';
        this.#timer = setTimeout(() => void this.flush(), delay);
      } else {
        // Retrying cannot fix a bad token or a rejected body: wait for new settings or "Sync now".
        this.state = 'error';
      }
    }
    if (sentAny) void this.fetchGlobal();
  }

  /** Fetches the endpoint's pooled leaderboard, shown beside the local one. */
  async fetchGlobal(): Promise<void> {
    if (!this.settings.enabled) return;
    try {
      const body = await this.#request(endpointUrl(this.settings.url, '/v1/leaderboard'), { method: 'GET' });
      this.global = parseLeaderboardResponse(body);
      this.globalFetchedAt = Date.now();
      this.globalError = null;
    } catch (e) {
      this.globalError = e instanceof HttpFailure ? describeSyncFailure(e.status, e.message).message : errorMessage(e);
    }
  }

  /** Manual "Sync now": also retries after a failure that would not retry by itself. */
  async syncNow(): Promise<void> {
    this.#attempt = 0;
    await this.flush();
    await this.fetchGlobal();
  }

  async #request(url: string, init: { method: 'GET' | 'POST'; body?: string }): Promise<unknown> {
    const headers: Record<string, string> = {};
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    if (this.settings.token) headers.authorization = `Bearer ${this.settings.token}`;
    let res: Response;
    try {
      res = await fetch(url, { method: init.method, body: init.body, headers, cache: 'no-store', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (e) {
      const why = e instanceof Error && e.name === 'TimeoutError' ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : '';
      throw new HttpFailure(undefined, why);
    }
    if (!res.ok) {
      let detail = '';
      try {
        const text = (await res.text()).slice(0, 300);
        try {
          const j = JSON.parse(text) as { error?: unknown };
          detail = typeof j.error === 'string' ? j.error : text;
        } catch {
          detail = text;
        }
      } catch {
        // no body
      }
      throw new HttpFailure(res.status, detail.trim());
    }
    try {
      return await res.json();
    } catch {
      throw new Error(`The endpoint at ${url} answered ${res.status} without JSON; is this a vote endpoint?`);
    }
  }
}
