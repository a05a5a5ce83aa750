#!/usr/bin/env bash
# The page's tests drive Debian's chromium (never a downloaded browser build) and run the JavaScript
# unit tests under Node. Install whichever is missing.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} for the page's tests..." >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  exit 0
fi
echo "The page's tests need ${missing[*]}: run 'sudo apt-get install -y ${missing[*]}' (Debian/Ubuntu)." >&2
exit 1
