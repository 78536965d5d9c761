// Browser setup of the ORT seam: its wasm comes from our own origin (Vite emits it as a hashed
// asset, and the service worker precaches it), never from a CDN.
import jsepWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import { configureOrt } from './ort';

let configured = false;

export function configureOrtForBrowser(): void {
  if (configured) return;
  configured = true;
  configureOrt({ wasmPaths: new URL(jsepWasmUrl, self.location.href).href, numThreads: 1 });
}
