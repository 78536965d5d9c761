// The handle the app puts on window for diagnostics and the end-to-end tests, which drive the real app through it.
import type { Studio } from './state/studio.svelte';
import type { MasteringDesk } from './state/mastering.svelte';

declare global {
  interface Window {
    __aimixer?: { studio: Studio; desk: MasteringDesk; offlineReady: Promise<void> };
  }
}

export {};
