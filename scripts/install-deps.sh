#!/usr/bin/env bash
# Idempotent install of every Debian package pdestream needs (see DESIGN.md).
# Fast when everything is present: dpkg-query decides, apt runs only for what is missing.
#
#   scripts/install-deps.sh          # install what is missing
#   scripts/install-deps.sh --check  # list what is missing, exit 1 if anything is
#   PDESTREAM_EXTRA_PACKAGES="clang-14 libclang-rt-14-dev" scripts/install-deps.sh
#                                    # also the packages of an optional job (make fuzz)
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config ccache git
  libopenmpi-dev openmpi-bin
  petsc-dev
  libtorch-dev libopenblas0-pthread
  libhdf5-openmpi-dev
  libvtk9-dev
  libfftw3-dev libfftw3-mpi-dev
  libsndfile1-dev
  libplplot-dev plplot-driver-cairo fonts-dejavu-core
  libcli11-dev libtoml11-dev nlohmann-json3-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-numpy python3-h5py python3-torch python3-matplotlib
)
read -r -a extra <<< "${PDESTREAM_EXTRA_PACKAGES:-}"
PACKAGES+=("${extra[@]}")

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

if [[ "${1:-}" == "--check" ]]; then
  echo "install-deps: missing: ${missing[*]}"
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
