// "About & licences": every registry model and third-party library the app ships, with its licence.
export { modelGroups, RUNTIME_LICENCES, type ModelGroup, type RuntimeLicence } from './licences';
