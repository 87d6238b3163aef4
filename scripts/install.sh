#!/usr/bin/env bash
# Installs what Switchyard needs on a Debian machine that has Node 20: nftables and iproute2
# from Debian when run as root, pnpm, and the workspace's packages (the benchmarks' extras are
# in install-bench.sh). Safe to run again; it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# node-gyp must build against the headers Debian ships, not download Node's.
[ -d /usr/include/node ] && export npm_config_nodedir=/usr

apt_packages=()
command -v nft >/dev/null 2>&1 || apt_packages+=(nftables)
command -v ip >/dev/null 2>&1 || apt_packages+=(iproute2)
# The dashboard's browser tests run in Debian's Chromium (Playwright never downloads a browser here).
command -v chromium >/dev/null 2>&1 || apt_packages+=(chromium)
if [ ${#apt_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "install: apt-get install ${apt_packages[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
  else
    echo "install: not root, so not installing ${apt_packages[*]} (needed for applying rules, the kernel tests and the browser tests)" >&2
  fi
fi

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "12.4.2" ]; then
  echo "install: npm install -g pnpm@12.4.2" >&2
  npm install -g --silent pnpm@12.4.2 >/dev/null 2>&1 || npm install -g pnpm@12.4.2
fi
pnpm install --frozen-lockfile --reporter=silent

# Prisma Client for packages/db, generated into packages/db/src/generated (gitignored). Prisma's
# CLI wants its native schema engine, which cannot be downloaded here; generation does not use
# it, so any executable stands in (migrations use @prisma/schema-engine-wasm instead).
if ! generate_out=$(cd packages/db && PRISMA_SCHEMA_ENGINE_BINARY=/bin/true CHECKPOINT_DISABLE=1 \
    PRISMA_HIDE_UPDATE_MESSAGE=1 node_modules/.bin/prisma generate 2>&1); then
  echo "$generate_out" >&2
  echo "install: prisma generate failed (packages/db)" >&2
  exit 1
fi

# The agent as one JavaScript file (bin/switchyard-agent prefers it while it is newer than the sources).
if ! bundle_out=$(pnpm --filter @switchyard/agent run bundle 2>&1); then
  echo "$bundle_out" >&2
  echo "install: bundling the agent failed (packages/agent)" >&2
  exit 1
fi
