// The handle the app puts on window for diagnostics and the end-to-end tests, which drive the real app through it.
import type { Studio } from './features/studio';
import type { MasteringDesk } from './features/mastering';
import type { AutoMixDesk } from './features/automix';
import type { TournamentDesk } from './features/tournament';
import type { PodcastDesk } from './features/podcast';

declare global {
  interface Window {
    __aimixer?: { studio: Studio; desk: MasteringDesk; automix: AutoMixDesk; tournament: TournamentDesk; podcast: PodcastDesk; offlineReady: Promise<void> };
  }
}

export {};
