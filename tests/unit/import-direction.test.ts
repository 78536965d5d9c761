// The import-direction check: the repository passes it, and each kind of upward or cross-feature import fails it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkImports } from '../../scripts/check-imports';

function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'imports-'));
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), text);
  }
  return root;
}

const pairs = (root: string) => checkImports(root).map((v) => `${v.from} → ${v.to}`);

describe('import direction', () => {
  it('holds for the repository', () => {
    expect(checkImports(process.cwd())).toEqual([]);
  });

  it('finds an upward import between core layers', () => {
    const root = tree({
      'src/shared/mix.ts': `export const a = 1;`,
      'src/dsp/gain.ts': `import { a } from '../shared/mix';\nimport { b } from '../ml/ort';`,
      'src/ml/ort.ts': `export const b = 2;`,
    });
    expect(pairs(root)).toEqual(['src/dsp/gain.ts → src/ml/ort.ts']);
  });

  it('finds worker code that imports state, and a feature module that drags the bridge into a worker', () => {
    const root = tree({
      'src/bridge/jobs.ts': `export const jobs = 1;`,
      'src/features/a/a.svelte.ts': `export class A {}`,
      'src/features/a/queue.ts': `import { jobs } from '../../bridge/jobs';`,
      'src/features/a/pure.ts': `export const p = 1;`,
      'src/features/a/worker/run.ts': `import { A } from '../a.svelte';\nimport './../queue';\nimport { p } from '../pure';`,
      'workers/a/index.ts': `import '../../src/features/a/worker/run';`,
    });
    expect(pairs(root).sort()).toEqual(['src/features/a/worker/run.ts → src/features/a/a.svelte.ts', 'src/features/a/worker/run.ts → src/features/a/queue.ts']);
  });

  it('lets a feature use another only through its index.ts or contract.ts', () => {
    const root = tree({
      'src/features/b/index.ts': `export { B } from './b.svelte';`,
      'src/features/b/b.svelte.ts': `export class B {}`,
      'src/features/b/contract.ts': `export interface BApi {}`,
      'src/features/b/helpers.ts': `export const h = 1;`,
      'src/features/a/a.svelte.ts': `import { B } from '../b';\nimport type { BApi } from '../b/contract';\nimport { h } from '../b/helpers';`,
    });
    expect(checkImports(root).map((v) => v.why)).toEqual(['reaches into the b feature: import its index.ts or contract.ts']);
  });
});
