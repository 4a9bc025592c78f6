#!/usr/bin/env bash
# Fetch the offline photo sources and the CJK font once (unpack-only Debian downloads, no install):
#   lomiri-wallpapers-16.04, mate-backgrounds, fonts-noto-cjk -> ${CREATIVE4U_CACHE:-~/.cache/creative4u}/photos
# The skimage photos ship inside scikit-image's wheel and need no download.
# Usage: scripts/fetch_photos.sh [--cache-dir DIR]      (needs apt-get and dpkg-deb; run `apt-get update` first
# if apt reports "Unable to locate package")
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}"
exec "$PY" -m creative4u.data.photos "$@"
