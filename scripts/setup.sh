#!/usr/bin/env bash
# setup.sh - install, idempotently, what a fresh Debian 12 machine lacks to
# build and run mmbench.  `--with-browser` also installs Chromium for the
# dashboard's browser tests.  Safe to run again: it installs only what is
# missing.
set -euo pipefail

pkgs=(build-essential cmake pkg-config git libsqlite3-dev sqlite3
      libjemalloc-dev libmimalloc-dev libgoogle-perftools-dev libmicrohttpd-dev
      nodejs npm python3 util-linux)
if [[ "${1:-}" == "--with-browser" ]]; then
  pkgs+=(chromium)
fi

missing=()
for p in "${pkgs[@]}"; do
  # node and npm may come from another source (e.g. nodesource); accept any.
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
    python3) command -v python3 >/dev/null 2>&1 && continue ;;  # the tests' CSV/JSON checks
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all packages present"
fi
