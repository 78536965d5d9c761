// The studio's public surface: the session state other features build on, its workers and their contract.
export { Studio, type Notice, type StorageProblem } from './studio.svelte';
export { splitByWork } from './render-split';
export type * from './contract';
export { analysisWorkers, decodeWorkers, renderWorkers } from './workers';
