// Service worker registration with workbox-window: offline readiness and the "new version" prompt.
import { Workbox } from 'workbox-window';

type UpdateListener = (apply: () => void) => void;

const listeners = new Set<UpdateListener>();
let pendingApply: (() => void) | null = null;
let offlineReady: Promise<void> | null = null;

/** Subscribes to "a new version is waiting"; returns its own unsubscribe function. */
export function onUpdateReady(listener: UpdateListener): () => void {
  listeners.add(listener);
  if (pendingApply) listener(pendingApply);
  return () => listeners.delete(listener);
}

/** Registers /sw.js in production builds; resolves once the page is controlled and precached. */
export function registerServiceWorker(): Promise<void> {
  offlineReady ??= (async () => {
    if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return;
    const wb = new Workbox(`${import.meta.env.BASE_URL}sw.js`, { scope: import.meta.env.BASE_URL });
    wb.addEventListener('waiting', () => {
      pendingApply = () => {
        // Reload once the new worker takes control, so the page and its cache agree.
        wb.addEventListener('controlling', () => window.location.reload());
        wb.messageSkipWaiting();
      };
      for (const l of listeners) l(pendingApply);
    });
    await wb.register();
    // install → activate → claim: when the controller is set, the precache is complete.
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise<void>((resolve) => navigator.serviceWorker.addEventListener('controllerchange', () => resolve(), { once: true }));
    }
  })();
  return offlineReady;
}

/** The same promise as registerServiceWorker(): ready to work offline. */
export function whenOfflineReady(): Promise<void> {
  return registerServiceWorker();
}
