#!/usr/bin/env bash
# `npm test`: everything a fresh machine (Node 20 + npm) needs, then unit and browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm ci` refuses this lock: the registry lacks rollup's optional binaries for other platforms,
  # which npm leaves out of the lock yet still expects. `npm install` honours the lock all the same.
  npm install --no-audit --no-fund
fi
bash scripts/ensure-chromium.sh
bash scripts/ensure-postgres.sh
npm run check
npx vitest run
npm run build
npx playwright test
