#!/usr/bin/env bash
# Build what the React end-to-end tests (tests/react/) serve: the @rtcroom/react package, the
# example app (examples/react) and the page on Agentuity's own hook (tests/react/agentuity-app).
# npm needs the registry, so run this OUTSIDE the tests' network namespace (scripts/test and
# .ci/run do). `npm ci` runs only where node_modules is missing or older than the lockfile.
set -euo pipefail
cd "$(dirname "$0")/../.."

node -e 'const [a, b] = process.versions.node.split(".").map(Number);
  if (a < 20 || (a === 20 && b < 19)) { console.error(`rtcroom: the React packages need Node.js >= 20.19 (vite 8), found ${process.version}`); process.exit(1); }'

for app in js/react examples/react tests/react/agentuity-app; do
  if [ ! -f "$app/node_modules/.package-lock.json" ] \
     || [ "$app/package-lock.json" -nt "$app/node_modules/.package-lock.json" ]; then
    (cd "$app" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  (cd "$app" && npm run --silent build)
done
echo "rtcroom: built js/react, examples/react and tests/react/agentuity-app" >&2
