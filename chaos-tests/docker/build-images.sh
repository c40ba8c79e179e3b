#!/usr/bin/env bash
# Builds the Redis and HAProxy images of the Testcontainers backend from this machine's own
# binaries (no registry is needed): each image is the binary, the shared libraries `ldd` lists,
# and whatever else it reads, imported with `docker import`.
#   spillway/redis:local    redis-server (Sentinel runs it with --sentinel)
#   spillway/haproxy:local  haproxy
# The relay runs in the project's own image (deploy/docker/Dockerfile, `./spillway image`),
# which the backend builds from the checkout's relay.jar (dev.spillway.chaos.topology.RelayImage).
# Usage: build-images.sh [--force]
set -euo pipefail

force=${1:-}
have() { [ -z "$force" ] && docker image inspect "$1" >/dev/null 2>&1; }

libs_of() { ldd "$@" 2>/dev/null | awk '/=> \//{print $3} /^[ \t]*\/.*ld-linux/{print $1}' | sort -u; }

import() { # image, files...
  local image=$1; shift
  local root; root=$(mktemp -d)
  for f in "$@"; do
    [ -e "$f" ] || continue # a dangling link has nothing to copy
    mkdir -p "$root$(dirname "$f")"
    cp -aL "$f" "$root$f"
  done
  mkdir -p "$root/tmp" && chmod 1777 "$root/tmp"
  tar -C "$root" -c . | docker import - "$image" >/dev/null
  rm -rf "$root"
  echo "built $image"
}

if ! have spillway/redis:local; then
  import spillway/redis:local /usr/bin/redis-server $(libs_of /usr/bin/redis-server)
fi
if ! have spillway/haproxy:local; then
  import spillway/haproxy:local /usr/sbin/haproxy $(libs_of /usr/sbin/haproxy)
fi
