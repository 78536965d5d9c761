// Usage metrics kept on this device: the recorder the app starts with, and the Metrics desk.
export { MetricsDesk } from './analytics.svelte';
export { metricsRecorderFor, type MetricsRecorder, type RecorderOptions } from './recorder';
