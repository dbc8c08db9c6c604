#!/usr/bin/env bash
# Builds the tools Debian does not package from their Go modules, at pinned versions, each into
# its own folder under one cache directory: $AIRLIFT_TOOLS_DIR (default ~/.cache/airlift-tools)/
# <name>-<version>/. Idempotent: a folder that is complete is kept, so a second run costs
# nothing. Prints each build's time. Only the Go module proxy is asked.
#
# A module is built as the main module from its own source (the module cache), so its go.mod,
# with its replace and exclude directives, is honoured (`go install pkg@version` refuses those).
set -euo pipefail

TOOLS_DIR="${AIRLIFT_TOOLS_DIR:-$HOME/.cache/airlift-tools}"
mkdir -p "$TOOLS_DIR"

# build_tool <name> <module> <version> <version variable or -> <package>...
# Binaries are named after their package's last element; the version variable (a Go string set
# with -X) makes `<tool> --version` report the pinned version, as release builds do.
build_tool() {
  local name=$1 module=$2 version=$3 var=$4
  shift 4
  local ldflags="-s -w"
  [ "$var" = - ] || ldflags="$ldflags -X $var=$version"
  local dir="$TOOLS_DIR/$name-$version"
  if [ -f "$dir/.complete" ]; then
    return 0
  fi
  local start=$SECONDS
  local json src
  json=$(GOFLAGS=-mod=mod go mod download -json "$module@$version")
  src=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' | head -1)
  if [ -z "$src" ] || [ ! -d "$src" ]; then
    echo "setup: $module@$version: the Go module proxy gave no source" >&2
    printf '%s\n' "$json" >&2
    return 1
  fi
  rm -rf "$dir.partial"
  mkdir -p "$dir.partial"
  # a module zip carries vendor/modules.txt but not the vendored code: build from the module cache
  local goflags=-buildvcs=false
  [ -d "$src/vendor" ] && goflags="$goflags -mod=mod"
  (cd "$src" && CGO_ENABLED=0 GOFLAGS="$goflags" go build -trimpath -ldflags "$ldflags" -o "$dir.partial/" "$@")
  rm -rf "$dir"
  mv "$dir.partial" "$dir"
  touch "$dir/.complete"
  echo "setup: built $name $version in $((SECONDS - start)) s ($(ls "$dir" | tr '\n' ' '))"
}

build_tool buildkit github.com/moby/buildkit v0.34.2 github.com/moby/buildkit/version.Version ./cmd/buildkitd ./cmd/buildctl
build_tool buildx github.com/docker/buildx v0.38.2 github.com/docker/buildx/version.Version ./cmd/buildx
build_tool helm helm.sh/helm/v3 v3.22.0 helm.sh/helm/v3/internal/version.version ./cmd/helm
build_tool act github.com/nektos/act v0.2.89 main.version .
# the peers of the benchmarks (bench/, issue #16): registry copy tools, S3 clients, an S3 server,
# a network-shaping proxy, the OSS client
build_tool crane github.com/google/go-containerregistry v0.22.1 github.com/google/go-containerregistry/cmd/crane/cmd.Version ./cmd/crane
build_tool regclient github.com/regclient/regclient v0.11.7 - ./cmd/regctl ./cmd/regsync
build_tool s5cmd github.com/peak/s5cmd/v2 v2.3.0 github.com/peak/s5cmd/v2/version.Version .
build_tool rclone github.com/rclone/rclone v1.76.0 - .
build_tool versitygw github.com/versity/versitygw v1.8.0 - ./cmd/versitygw
build_tool toxiproxy github.com/Shopify/toxiproxy/v2 v2.12.0 - ./cmd/server ./cmd/cli
build_tool ossutil github.com/aliyun/ossutil v1.7.19 - .
# moto (an EC2, IAM and S3 emulator, from PyPI) in its own virtualenv, pinned, the same way
build_venv() {
  local name=$1 version=$2 spec=$3
  local dir="$TOOLS_DIR/$name-$version"
  [ -f "$dir/.complete" ] && return 0
  local start=$SECONDS
  # a virtualenv records its own path, so it is made where it stays; .complete marks it whole
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check "$spec"
  touch "$dir/.complete"
  echo "setup: installed $name $version in $((SECONDS - start)) s"
}
build_venv moto 5.2.5 'moto[server]==5.2.5'

echo "setup: tools in $TOOLS_DIR: $(cd "$TOOLS_DIR" && ls -d -- */ 2>/dev/null | tr -d / | tr '\n' ' ')"
