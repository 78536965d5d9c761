// "About & licences": every registry model and third-party library the app ships, with its licence.
export { default as AboutLicences } from './ui/AboutLicences.svelte';
export { modelGroups, RUNTIME_LICENCES, type ModelGroup, type RuntimeLicence } from './licences';
