// The separation feature's public surface: its desk state and its worker contract.
export { SeparationDesk, type SeparationOutcome, type StemSummary } from './separation.svelte';
export type * from './contract';
