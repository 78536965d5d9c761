// mixnet in Node (evaluation, tests): the runner with a loader that reads the committed .onnx
// files from disk and opens them through the ORT seam on WASM.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSession } from '../../src/ml/ort';
import { createMixnetRunner, mixnetModelId, type MixnetSessionLoader, type MixnetVariant } from '../../models/mixnet/runner';
import { REPO_ROOT } from './paths';

export const MIXNET_DIR = join(REPO_ROOT, 'models/mixnet');

export const mixnetFile = (variant: MixnetVariant): string => join(MIXNET_DIR, `mixnet.${variant}.onnx`);

export const diskMixnetSession: MixnetSessionLoader = async (variant) => {
  const started = performance.now();
  const session = await openSession(`${mixnetModelId(variant)}:disk`, () => Promise.resolve(new Uint8Array(readFileSync(mixnetFile(variant)))));
  return { session, runtime: { ep: session.ep, fallbackReason: null, selfCheckDiff: null, fetchEvents: [], loadMs: performance.now() - started } };
};

export const nodeMixnetRunner = (variant: MixnetVariant) => createMixnetRunner(variant, diskMixnetSession);
