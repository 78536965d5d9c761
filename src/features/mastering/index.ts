// Mastering and export: its desk.
export { MasteringDesk } from './mastering.svelte';
