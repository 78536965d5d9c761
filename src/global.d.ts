// The handle the app puts on window for diagnostics and the end-to-end tests, which drive the real app through it.
import type { Studio } from './features/studio/studio.svelte';
import type { MasteringDesk } from './features/mastering/mastering.svelte';
import type { AutoMixDesk } from './features/automix/automix.svelte';
import type { TournamentDesk } from './features/tournament/tournament.svelte';
import type { PodcastDesk } from './features/podcast/podcast.svelte';

declare global {
  interface Window {
    __aimixer?: { studio: Studio; desk: MasteringDesk; automix: AutoMixDesk; tournament: TournamentDesk; podcast: PodcastDesk; offlineReady: Promise<void> };
  }
}

export {};
