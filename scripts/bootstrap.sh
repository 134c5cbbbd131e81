#!/usr/bin/env bash
# Installs exactly the Debian 12 packages lote needs that are missing on this machine.
# Both quick-start commands call it; it is a no-op on a machine that has everything.
# Usage: scripts/bootstrap.sh [--bench] [--checks] [--node] [--services] [--image]
#   --bench   adds the peers the benchmarks compare with
#   --checks  adds what scripts/test.sh's check phases use: clang-format, clang 14 with its
#             sanitizer and libFuzzer runtimes, llvm-symbolizer for readable stack traces; implies
#             --node
#   --node    node and npm (Debian's nodejs and npm when there is no node at all), then the
#             repository's npm packages (package-lock.json: asl-validator, aws-local-stepfunctions,
#             the ASL peers of tests/flow/peers/ and bench/flow_bench.py) with `npm ci` when
#             node_modules is missing or older than package-lock.json
#   --services  the services the tests start: chromium (the dashboard's browser tests, driven by
#             playwright-core from npm) with a font, and a check that moto_server (moto with its
#             server extra, an S3 API on loopback) is there. moto is not a Debian package; when it
#             is missing this fails and says how to install it.
#   --image   what scripts/build_image.sh uses to make lote's container image: debootstrap,
#             buildah and podman
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libicu-dev libutf8proc-dev libstemmer-dev
  nlohmann-json3-dev libcli11-dev libyaml-cpp-dev
  libsqlite3-dev libssl-dev zlib1g-dev libzstd-dev libxxhash-dev libcld2-dev
  libcurl4-openssl-dev libexpat1-dev libboost-dev
  libgtest-dev libgmock-dev
  python3 zstd
  # the services the metrics tests start: Prometheus (and promtool) and the Pushgateway
  prometheus prometheus-pushgateway
  # word lists `lote train extract` gives the entity tagger (apps/lote/word_lists.cc)
  hunspell-es iso-codes python3-fake-factory
)
check_services=
with_node=
for arg in "$@"; do
  case "$arg" in
    --bench) packages+=(libbenchmark-dev fasttext time python3-sklearn python3-flask wrk) ;;
    --checks)
      packages+=(clang-format-14 clang-14 libclang-rt-14-dev llvm-14 lld-14)
      with_node=1
      ;;
    --node) with_node=1 ;;
    --image) packages+=(debootstrap buildah podman) ;;
    --services)
      check_services=1
      packages+=(chromium fonts-dejavu-core)
      ;;
    *)
      echo "bootstrap: unknown option $arg (expected --bench, --checks, --node, --services or" \
        "--image)" >&2
      exit 2
      ;;
  esac
done

if [[ -n "${check_services:-}" ]] && ! command -v moto_server >/dev/null; then
  echo "bootstrap: moto_server is not on PATH; the S3 tests start it on a loopback port." >&2
  echo "  install it with: pip install 'moto[server]==5.2.1'" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# node and npm are looked up on PATH, not in dpkg: a node from another source (NodeSource's
# nodejs bundles npm and conflicts with Debian's npm) is used as it is.
if [[ -n "${with_node:-}" ]]; then
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
fi
if ((${#missing[@]} > 0)); then
  echo "bootstrap: installing ${missing[*]}" >&2
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if [[ -n "${with_node:-}" ]]; then
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  if [[ ! -d "$root/node_modules" || "$root/package-lock.json" -nt "$root/node_modules" ]]; then
    echo "bootstrap: npm ci in $root (package-lock.json)" >&2
    (cd "$root" && npm ci --no-audit --no-fund >&2)
  fi
fi
