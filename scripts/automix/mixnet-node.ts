// mixnet in Node (evaluation, tests): the runner with a loader that reads the committed .onnx files from disk,
// hash-checked against their registry entries (models/registry-node.ts), and opens them through the ORT seam on WASM.
import { openSession } from '../../src/ml/ort';
import { createMixnetRunner, mixnetModelId, type MixnetSessionLoader, type MixnetVariant } from '../../models/mixnet/runner';
import { modelFilePath, nodeModelMeta, readModelFile } from '../../models/registry-node';

export const mixnetFile = (variant: MixnetVariant): string => modelFilePath(nodeModelMeta(mixnetModelId(variant), 'automix'));

export const diskMixnetSession: MixnetSessionLoader = async (variant) => {
  const started = performance.now();
  const session = await openSession(`${mixnetModelId(variant)}:disk`, () => Promise.resolve(readModelFile(nodeModelMeta(mixnetModelId(variant), 'automix'))));
  return { session, runtime: { ep: session.ep, fallbackReason: null, selfCheckDiff: null, fetchEvents: [], loadMs: performance.now() - started } };
};

export const nodeMixnetRunner = (variant: MixnetVariant) => createMixnetRunner(variant, diskMixnetSession);
