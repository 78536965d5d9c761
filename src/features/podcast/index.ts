// The podcast best-of desk.
export { PodcastDesk } from './podcast.svelte';
