import { mount } from 'svelte';
import App from './App.svelte';
import { Studio } from './state/studio.svelte';
import { MasteringDesk } from './state/mastering.svelte';
import { registerServiceWorker, whenOfflineReady } from './pwa/register';

const studio = new Studio();
const desk = new MasteringDesk(studio);
const offlineReady = whenOfflineReady();

// A handle for diagnostics and the end-to-end tests, which drive the real app through it.
declare global {
  interface Window {
    __aimixer?: { studio: Studio; desk: MasteringDesk; offlineReady: Promise<void> };
  }
}
window.__aimixer = { studio, desk, offlineReady };

mount(App, { target: document.getElementById('app')!, props: { studio, desk } });
void studio.init(import.meta.env.BASE_URL);
