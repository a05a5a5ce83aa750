#!/usr/bin/env bash
# The base images the project's Dockerfiles start from, built from Debian's own packages when the
# official images cannot be pulled (no image registry is reachable from CI):
#
#   draw-a-digit-base/debian:bookworm-slim    debootstrap --variant=minbase bookworm, docker import
#   draw-a-digit-base/python:3.11-slim-bookworm   the above + Debian's python3 (3.11), pip and venv,
#                                             `python` on PATH, the PEP 668 marker removed, so it takes
#                                             the Dockerfile's `pip install` as python:3.11-slim does
#
# Both carry this machine's CA certificates (an intercepting egress proxy may sign the package
# registries' certificates). An image that exists already is kept: the rootfs is built once per machine
# (about a minute); FORCE=1 rebuilds. Needs root, debootstrap and a running Docker engine (DOCKER_HOST).
set -euo pipefail
cd "$(dirname "$0")/../.."

DEBIAN_IMAGE=${DEBIAN_IMAGE:-draw-a-digit-base/debian:bookworm-slim}
PYTHON_IMAGE=${PYTHON_IMAGE:-draw-a-digit-base/python:3.11-slim-bookworm}
FORCE=${FORCE:-0}

# the mirror apt already uses here (deb822 or one-line sources), deb.debian.org otherwise
mirror() {
  local found
  found=$(grep -rhoE '^(URIs:[[:space:]]*|deb[[:space:]]+(\[[^]]*\][[:space:]]+)?)https?://[^[:space:]]+/debian/?([[:space:]]|$)' \
    /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | grep -oE 'https?://[^[:space:]]+' | grep -v security | head -n1 || true)
  echo "${found:-http://deb.debian.org/debian}"
}

have_image() { [ "$FORCE" != 1 ] && docker image inspect "$1" >/dev/null 2>&1; }

if ! have_image "$DEBIAN_IMAGE"; then
  rootfs=$(mktemp -d /var/tmp/draw-a-digit-rootfs.XXXXXX)
  trap 'rm -rf --one-file-system "$rootfs"' EXIT
  echo "debootstrap bookworm from $(mirror) into $rootfs ..." >&2
  debootstrap --variant=minbase bookworm "$rootfs" "$(mirror)" >"$rootfs.log" 2>&1 || { tail -n 30 "$rootfs.log" >&2; exit 1; }
  rm -f "$rootfs.log"
  # the host's extra CA certificates, appended to the image's bundle (ca-certificates is installed in
  # the python image and rebuilds the bundle from /usr/local/share/ca-certificates)
  mkdir -p "$rootfs/usr/local/share/ca-certificates" "$rootfs/etc/ssl/certs"
  cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/" 2>/dev/null || true
  [ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  # what debian:bookworm-slim has and minbase lacks: no apt caches, the image's own sources
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$(mirror)" \
    >"$rootfs/etc/apt/sources.list.d/debian.sources"
  rm -f "$rootfs/etc/apt/sources.list"
  tar -C "$rootfs" -c . | docker import -c 'CMD ["bash"]' - "$DEBIAN_IMAGE" >/dev/null
  rm -rf --one-file-system "$rootfs"
  trap - EXIT
  echo "built $DEBIAN_IMAGE" >&2
fi

if ! have_image "$PYTHON_IMAGE"; then
  DOCKER_BUILDKIT=0 docker build -q --build-arg "BASE_IMAGE=$DEBIAN_IMAGE" -t "$PYTHON_IMAGE" \
    -f deploy/base/python.Dockerfile deploy/base >/dev/null
  echo "built $PYTHON_IMAGE" >&2
fi
