#!/usr/bin/env bash
# What the benchmarks need beyond scripts/install.sh: wrk (the load), iptables (the
# kube-proxy baseline) and nginx (the backends' HTTP server; Node's own is the bottleneck).
# nginx's Debian package starts a server on the host's port 80 when installed: a temporary
# policy-rc.d forbids that, since the benchmark only runs the binary inside namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh

apt_packages=()
command -v wrk >/dev/null 2>&1 || apt_packages+=(wrk)
command -v iptables-legacy-restore >/dev/null 2>&1 || apt_packages+=(iptables)
[ -x /usr/sbin/nginx ] || apt_packages+=(nginx-light)
[ ${#apt_packages[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "install-bench: not root, so not installing ${apt_packages[*]}; the benchmarks need root anyway" >&2
  exit 1
fi
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && own_policy=1
fi
trap '[ "$own_policy" = 1 ] && rm -f "$policy"' EXIT
echo "install-bench: apt-get install ${apt_packages[*]}" >&2
DEBIAN_FRONTEND=noninteractive apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
