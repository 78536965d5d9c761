// The Metrics desk: reads the events the recorder keeps, summarises them for the page, downloads them as JSON and
// turns recording on or off. The recorder itself runs from the app's start (src/main.ts), not from this tab.
import type { Studio } from '../studio';
import type { MetricEvent } from './events';
import { listEvents } from './metrics-store';
import { metricsRecorderFor, type MetricsRecorder } from './recorder';
import { metricsExport, summarize, type MetricsSummary } from './stats';
import { errorMessage } from '../../shared/errors';

/** Changes arrive per finished job; the page is read again at most this often. */
const REFRESH_MS = 500;

export class MetricsDesk {
  /** "Record usage metrics on this device"; null until the setting is read. */
  recording = $state<boolean | null>(null);
  summary = $state.raw<MetricsSummary | null>(null);
  /** A toggle or refresh in progress. */
  busy = $state(false);
  error = $state<string | null>(null);

  readonly #studio: Studio;
  readonly #recorder: MetricsRecorder;
  readonly #offChange: () => void;
  #events: MetricEvent[] = [];
  #refreshTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(studio: Studio) {
    this.#studio = studio;
    this.#recorder = metricsRecorderFor(studio.jobSystem);
    this.#offChange = this.#recorder.onChange(() => this.#scheduleRefresh());
  }

  async restore(): Promise<void> {
    await this.#recorder.start();
    this.recording = this.#recorder.recording;
    await this.refresh();
  }

  /** Reads every kept event once the ones recorded so far are written. */
  async refresh(): Promise<void> {
    clearTimeout(this.#refreshTimer);
    this.#refreshTimer = undefined;
    try {
      await this.#recorder.flushed();
      this.#events = await listEvents();
      this.summary = summarize(this.#events);
      this.error = null;
    } catch (e) {
      this.error = `The usage metrics could not be read: ${errorMessage(e)}`;
    }
  }

  /** Off deletes every event now and records nothing more, on this device, until it is turned on again. */
  async setRecording(on: boolean): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.#recorder.setRecording(on);
      this.recording = on;
      if (!on) this.#studio.notify('info', 'Usage metrics are off; every recorded event was deleted.', 'Metrics');
    } catch (e) {
      this.#studio.notify('error', `The setting was not saved: ${errorMessage(e)}`, 'Metrics');
      this.recording = this.#recorder.recording;
    } finally {
      this.busy = false;
    }
    await this.refresh();
  }

  /** The kept events and the page's numbers as one JSON document, named by the day. */
  async exportJson(now = Date.now()): Promise<{ fileName: string; json: string }> {
    await this.refresh();
    const doc = metricsExport(this.#events, now);
    return { fileName: `ai-mixer-metrics-${doc.exportedAt.slice(0, 10)}.json`, json: JSON.stringify(doc, null, 2) };
  }

  dispose(): void {
    this.#offChange();
    clearTimeout(this.#refreshTimer);
  }

  #scheduleRefresh(): void {
    this.#refreshTimer ??= setTimeout(() => void this.refresh(), REFRESH_MS);
  }
}
