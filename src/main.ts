import { mount } from 'svelte';
import App from './App.svelte';
import { Studio } from './state/studio.svelte';
import { MasteringDesk } from './state/mastering.svelte';
import { whenOfflineReady } from './pwa/register';

const studio = new Studio();
const desk = new MasteringDesk(studio);
const offlineReady = whenOfflineReady();

window.__aimixer = { studio, desk, offlineReady };

mount(App, { target: document.getElementById('app')!, props: { studio, desk } });
void studio.init(import.meta.env.BASE_URL);
