import { mount } from 'svelte';
import App from './App.svelte';
import { Studio } from './state/studio.svelte';
import { MasteringDesk } from './state/mastering.svelte';
import { AutoMixDesk } from './state/automix.svelte';
import { whenOfflineReady } from './pwa/register';

const studio = new Studio();
const desk = new MasteringDesk(studio);
const automix = new AutoMixDesk(studio);
const offlineReady = whenOfflineReady();

window.__aimixer = { studio, desk, automix, offlineReady };

mount(App, { target: document.getElementById('app')!, props: { studio, desk, automix } });
void studio.init(import.meta.env.BASE_URL);
