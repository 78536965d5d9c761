// The desks a user opens from the top bar besides the studio and the podcast best-of: one line per feature. A desk's
// state is made when its tab is first opened, so a feature nobody opens starts no worker and loads no model.
import type { Component } from 'svelte';
import type { Studio } from './studio';
import { SeparationDesk } from './separation/separation.svelte';
import SeparationPanel from './separation/ui/SeparationPanel.svelte';
import { MetricsDesk } from './analytics';
import MetricsPanel from './analytics/ui/MetricsPanel.svelte';

/** What App needs of a desk's rune state class. */
export interface DeskState {
  /** Called once, when the tab is first opened: e.g. restore a queue kept in IndexedDB. */
  restore?(): Promise<void>;
  /** Stops its jobs and frees what it holds. */
  dispose(): void;
}

export interface DeskEntry<S extends DeskState = DeskState> {
  /** In the address (#id), so a reload comes back to it. */
  id: string;
  label: string;
  create: (studio: Studio) => S;
  /** Its panel; `ontostudio` shows the studio (e.g. after "Add to session"). */
  Panel: Component<{ desk: S; studio: Studio; ontostudio: () => void }>;
  /** Files dropped on the app while this desk is open; without it they are imported into the studio. */
  drop?: (desk: S, files: File[]) => void;
}

/** A desk entry with its state's type checked against its panel's, then widened for the list. */
export function desk<S extends DeskState>(entry: DeskEntry<S>): DeskEntry {
  return entry as unknown as DeskEntry;
}

export const DESKS: readonly DeskEntry[] = [
  desk({ id: 'separate', label: 'Separate', create: (studio) => new SeparationDesk(studio), Panel: SeparationPanel, drop: (d, files) => d.choose(files) }),
  desk({ id: 'metrics', label: 'Metrics', create: (studio) => new MetricsDesk(studio), Panel: MetricsPanel }),
];
