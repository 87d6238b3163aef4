#!/usr/bin/env bash
# Bundles the agent as it was at a git revision (its own bundle command, this checkout's
# installed dependencies), for bench/apply/agent.ts --baseline: the same benchmark run with
# both agents, interleaved, on the same machine at the same time.
#   bash bench/apply/bundle-at.sh main            # -> packages/agent/dist/baseline.mjs
#   bash bench/apply/bundle-at.sh <rev> <out.mjs>
# The output goes under packages/agent/dist (gitignored) by default, where it finds koffi.
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
rev="${1:?usage: bundle-at.sh <git revision> [out.mjs]}"
out="$(readlink -f "${2:-$root/packages/agent/dist/baseline.mjs}")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
git -C "$root" archive "$rev" packages/core packages/agent | tar -x -C "$tmp"
# The revision's sources with this checkout's dependencies; @switchyard/core is the revision's.
for pkg in core agent; do
  mkdir -p "$tmp/packages/$pkg/node_modules"
  for dep in "$root/packages/$pkg/node_modules"/* "$root/packages/$pkg/node_modules"/.bin; do
    [ -e "$dep" ] || continue
    case "$(basename "$dep")" in @switchyard) continue ;; esac
    ln -s "$(readlink -f "$dep")" "$tmp/packages/$pkg/node_modules/$(basename "$dep")"
  done
done
mkdir -p "$tmp/packages/agent/node_modules/@switchyard"
ln -s "$tmp/packages/core" "$tmp/packages/agent/node_modules/@switchyard/core"
script="$(cd "$tmp/packages/agent" && node -p 'require("./package.json").scripts.bundle')"
(cd "$tmp/packages/agent" && PATH="$tmp/packages/agent/node_modules/.bin:$PATH" sh -c "$script")
mkdir -p "$(dirname "$out")"
cp "$tmp/packages/agent/dist/switchyard-agent.mjs" "$out"
echo "bundle-at: the agent at $(git -C "$root" rev-parse --short "$rev") -> $out" >&2
