#!/usr/bin/env bash
# Installs everything sluice needs on Debian 12 (build tools, libraries, and the MariaDB and
# PostgreSQL servers the integration tests start) and builds into ./build (or $SLUICE_BUILD_DIR).
# Safe to run again: it installs only what is missing and rebuilds incrementally.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache: share hits between clones of the repo in different directories.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config python3 procps
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev libboost-dev libssl-dev libpq-dev libmariadb-dev libzstd-dev zlib1g-dev
  libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  mariadb-server mariadb-client postgresql-15 postgresql-client-15 openssl
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "setup.sh: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# Node.js runs the Node client's tests (clients/node); the machine's own Node is fine (18+).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "setup.sh: installing nodejs npm"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    nodejs npm >/dev/null
fi

BUILD="${SLUICE_BUILD_DIR:-build}"
JOBS="${SLUICE_JOBS:-2}"
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j "$JOBS"
echo "setup.sh: built into $BUILD (sluiced: $BUILD/server/daemon/sluiced, sluicectl: $BUILD/clients/sluicectl/sluicectl)"
