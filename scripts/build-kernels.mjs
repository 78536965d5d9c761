// Compiles the WebAssembly SIMD kernels (src/dsp-kernels/kernels.ts, AssemblyScript) into src/dsp/kernels.wasm.
// The binary is committed, like the models, so the app and the tests need no compiler; `--check` compiles to a
// temporary file and fails if the committed binary is not what the source gives.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src/dsp-kernels/kernels.ts');
const target = join(root, 'src/dsp/kernels.wasm');
const check = process.argv.includes('--check');
const out = check ? join(mkdtempSync(join(tmpdir(), 'kernels-')), 'kernels.wasm') : target;

execFileSync(process.execPath, [join(root, 'node_modules/assemblyscript/bin/asc.js'), source, '-O3', '--enable', 'simd', '--runtime', 'stub', '--noAssert', '-o', out], { stdio: 'inherit', cwd: root });
if (check) {
  const fresh = readFileSync(out);
  const committed = readFileSync(target);
  if (!fresh.equals(committed)) {
    console.error('src/dsp/kernels.wasm is not what src/dsp-kernels/kernels.ts compiles to: run `npm run build:kernels`.');
    process.exit(1);
  }
  console.log('src/dsp/kernels.wasm matches its source.');
} else {
  console.log(`wrote ${target} (${readFileSync(target).length} bytes)`);
}
