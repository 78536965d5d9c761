// The handle the app puts on window for diagnostics and the end-to-end tests, which drive the real app through it.
import type { Studio } from './state/studio.svelte';
import type { MasteringDesk } from './state/mastering.svelte';
import type { AutoMixDesk } from './state/automix.svelte';
import type { TournamentDesk } from './state/tournament.svelte';
import type { PodcastDesk } from './state/podcast.svelte';

declare global {
  interface Window {
    __aimixer?: { studio: Studio; desk: MasteringDesk; automix: AutoMixDesk; tournament: TournamentDesk; podcast: PodcastDesk; offlineReady: Promise<void> };
  }
}

export {};
