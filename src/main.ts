import { mount } from 'svelte';
import App from './App.svelte';
import { Studio } from './state/studio.svelte';
import { registerServiceWorker, whenOfflineReady } from './pwa/register';

const studio = new Studio();
const offlineReady = whenOfflineReady();

// A handle for diagnostics and the end-to-end tests, which drive the real app through it.
declare global {
  interface Window {
    __aimixer?: { studio: Studio; offlineReady: Promise<void> };
  }
}
window.__aimixer = { studio, offlineReady };

mount(App, { target: document.getElementById('app')!, props: { studio } });
void studio.init(import.meta.env.BASE_URL);
