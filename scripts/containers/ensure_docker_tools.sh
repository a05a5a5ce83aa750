#!/usr/bin/env bash
# What `make test-containers` needs on the machine, installed when missing (as scripts/ensure_browser_tools.sh
# does for the page's tests): Debian's docker.io (dockerd, containerd, runc, the docker CLI), debootstrap
# (the base images, when no registry can be pulled from) and the Compose v2 CLI plugin.
#
# Debian 12 packages only Compose 1.29, which cannot read a modern compose file; Compose v2 comes from
# Debian 13's docker-compose package, fetched with apt-get from a private apt configuration (the
# machine's own sources are left alone) and unpacked into the CLI's plugin folder.
set -euo pipefail

PLUGIN_DIR=/usr/libexec/docker/cli-plugins
APT_LOCK=(-o DPkg::Lock::Timeout=300)
SUDO=()
[ "$(id -u)" = "0" ] || SUDO=(sudo)

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || { echo "the container tests need ${missing[*]} (Debian/Ubuntu packages)" >&2; exit 1; }
  echo "installing ${missing[*]} for the container tests..." >&2
  "${SUDO[@]}" apt-get "${APT_LOCK[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get "${APT_LOCK[@]}" install -y -qq --no-install-recommends \
    $(printf '%s\n' "${missing[@]}" | sort -u) iptables >/dev/null
fi

if ! docker compose version >/dev/null 2>&1; then
  echo "installing the Compose v2 plugin from Debian 13's docker-compose package..." >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/preferences.d" "$work/unpacked"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" >"$work/sources.list"
  apt_private=(-o "Dir::Etc::sourcelist=$work/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$work/lists"
    -o "Dir::Cache=$work/cache" -o "Dir::Etc::preferencesparts=$work/preferences.d" -o APT::Sandbox::User=root)
  apt-get "${apt_private[@]}" update -qq
  (cd "$work" && apt-get "${apt_private[@]}" download -qq docker-compose)
  dpkg-deb -x "$work"/docker-compose_*.deb "$work/unpacked"
  "${SUDO[@]}" install -D -m 0755 "$work/unpacked/usr/libexec/docker/cli-plugins/docker-compose" "$PLUGIN_DIR/docker-compose"
  docker compose version >&2
fi
