#!/usr/bin/env bash
# The non-digit drawings (backend/recognition/negatives.py) render letters from Debian's font packages:
# training fonts and held-out fonts, named there. Install whichever package is missing.
set -euo pipefail
packages=(fonts-dejavu-core fonts-liberation fonts-freefont-ttf fonts-urw-base35 fonts-comic-neue fonts-dkg-handwriting
  fonts-breip fonts-kristi fonts-sjfonts fonts-humor-sans fonts-femkeklaver fonts-rufscript)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} for the non-digit drawings..." >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  exit 0
fi
echo "The non-digit drawings need fonts: run 'sudo apt-get install -y ${missing[*]}' (Debian/Ubuntu)." >&2
exit 1
