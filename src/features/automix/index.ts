// Auto-mix: its desk, and the model run other features use (the tournament plays models against each other).
export { AutoMixDesk } from './automix.svelte';
export { mlSettings, onModelRun, runAutomixModel } from './ml-job';
