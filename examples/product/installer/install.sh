#!/bin/sh
# Installs the product from the unpacked bundle: loads the images into the site registry
# (airlift pack-offline --mode import), then starts it with docker compose.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bundle=$(cd "$here/../.." && pwd)
config=${1:-$here/config}
[ -f "$config" ] || { echo "copy $here/config.sample to $config and fill it in" >&2; exit 1; }
. "$config"
: "${SITE_REGISTRY:?set SITE_REGISTRY in $config}"
(cd "$bundle" && sha256sum -c --quiet SHA256SUMS)
airlift pack-offline --mode import --archive "$bundle/images/images.tar" --target "$SITE_REGISTRY"
echo "images are in $SITE_REGISTRY; start with: docker compose -f compose/docker-compose.yml up -d"
