#!/usr/bin/env bash
# Builds lote's container image (deploy/container/Containerfile) without a registry or a daemon,
# from Debian's packages only (docs/serve.md, "The container image"):
#   1. a Debian 12 root file system by `debootstrap --variant=minbase` with lote's runtime
#      libraries, CA certificates and the tagger's word lists (the mirror of /etc/apt's sources);
#   2. imported as localhost/lote-base:bookworm (podman import);
#   3. lote's binary and dashboard assets (build/, made by scripts/build.sh) added by
#      `buildah bud --isolation chroot`, tagged localhost/lote:VERSION;
#   4. written as an OCI archive (--out), what `skopeo copy oci-archive:... docker://ECR/...` or a
#      registry push takes.
# Needs root (debootstrap, chroot). Container storage is kept under WORK/storage, not the
# machine's (pass it to buildah/podman as --root WORK/storage --runroot WORK/run).
# Usage: scripts/build_image.sh [--work DIR] [--out FILE] [--binary PATH]
#   --work DIR     where the root file system and the container storage go (default build/image)
#   --out FILE     the OCI archive (default WORK/lote-VERSION.oci.tar)
#   --binary PATH  the lote binary (default build/lote; build/dashboard beside it)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$root/build/image
out=
binary=$root/build/lote
while (($#)); do
  case "$1" in
    --work) work=$2; shift ;;
    --out) out=$2; shift ;;
    --binary) binary=$2; shift ;;
    *) echo "build_image: unknown argument $1 (see the usage at the top)" >&2; exit 2 ;;
  esac
  shift
done
if [[ $(id -u) -ne 0 ]]; then
  echo "build_image: needs root (debootstrap and chroot)" >&2
  exit 2
fi
for tool in debootstrap buildah podman; do
  command -v "$tool" >/dev/null || {
    echo "build_image: $tool is missing (scripts/bootstrap.sh --image installs it)" >&2
    exit 2
  }
done
[[ -x $binary && -d $(dirname "$binary")/dashboard ]] || {
  echo "build_image: no $binary with dashboard/ beside it (scripts/build.sh builds them)" >&2
  exit 2
}
version=$("$binary" version | awk 'NR == 1 {print $2}')
[[ -n $version ]] || { echo "build_image: cannot read the binary's version" >&2; exit 1; }
mkdir -p "$work"
work=$(cd "$work" && pwd)
out=${out:-$work/lote-$version.oci.tar}
store=(--root "$work/storage" --runroot "$work/run" --storage-driver vfs)

# The packages the binary links (ldd) and what its commands read at run time.
packages=libyaml-cpp0.7,libicu72,libutf8proc2,libzstd1,libxxhash0,libstemmer0d,libcld2-0
packages+=,libsqlite3-0,libssl3,zlib1g,libcurl4,libexpat1,ca-certificates
packages+=,hunspell-es,iso-codes,python3-fake-factory
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}
rootfs=$work/rootfs
# The base is made once per package list and mirror; a half-made one is made again.
stamp=$(printf '%s %s' "$packages" "$mirror" | sha256sum | cut -c1-16)
if [[ ! -f $rootfs/.lote-base-$stamp ]]; then
  rm -rf "$rootfs"
  echo "build_image: debootstrap bookworm from $mirror" >&2
  debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 20 "$work/debootstrap.log" >&2
    exit 1
  }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  touch "$rootfs/.lote-base-$stamp"
fi
echo "build_image: importing the base" >&2
tar -C "$rootfs" --exclude="./.lote-base-*" -c . | podman "${store[@]}" import - localhost/lote-base:bookworm >/dev/null

context=$work/context
rm -rf "$context" && mkdir -p "$context"
cp deploy/container/Containerfile "$context/"
cp "$binary" "$context/lote"
cp -r "$(dirname "$binary")/dashboard" "$context/dashboard"
echo "build_image: building localhost/lote:$version" >&2
buildah "${store[@]}" bud --isolation chroot -f "$context/Containerfile" -t "localhost/lote:$version" "$context" >"$work/bud.log" 2>&1 || {
  tail -n 20 "$work/bud.log" >&2
  exit 1
}
rm -f "$out"
buildah "${store[@]}" push "localhost/lote:$version" "oci-archive:$out:localhost/lote:$version" >/dev/null
echo "localhost/lote:$version $out"
