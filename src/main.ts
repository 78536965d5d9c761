import { mount } from 'svelte';
import App from './App.svelte';
import { Studio } from './features/studio';
import { MasteringDesk } from './features/mastering';
import { AutoMixDesk, onModelRun } from './features/automix';
import { metricsRecorderFor } from './features/analytics';
import { TournamentDesk } from './features/tournament';
import { PodcastDesk } from './features/podcast';
import { whenOfflineReady } from './pwa/register';

const studio = new Studio();
// From the first job on, whether or not the Metrics tab is ever opened (it reads what this keeps).
metricsRecorderFor(studio.jobSystem, { modelRuns: onModelRun });
const desk = new MasteringDesk(studio);
const automix = new AutoMixDesk(studio);
const tournament = new TournamentDesk(studio);
const podcast = new PodcastDesk(studio);
const offlineReady = whenOfflineReady();

window.__aimixer = { studio, desk, automix, tournament, podcast, offlineReady };

mount(App, { target: document.getElementById('app')!, props: { studio, desk, automix, tournament, podcast } });
void studio.init(import.meta.env.BASE_URL);
void tournament.init();
