#!/bin/sh
# Runs where `pulumi up` runs, against the Docker engine in DOCKER_HOST: puts public files (the CA
# certificates cloudflared verifies public services' HTTPS upstreams with) into CONFIG_DIR on the
# Docker host, through a throwaway container of IMAGE that runs WRITE (shell/public-files-write.sh
# with its unpack function). The files travel on standard input. No container is replaced:
# cloudflared reads the folder (mounted read-only) when its routes change, and each file's name
# carries its content's hash, so a new certificate is a new route.
set -eu
: "${CONFIG_DIR:?}" "${IMAGE:?}" "${WRITE:?}"
result=$(docker run --rm -i --user 0 --network none -v "$CONFIG_DIR:/cfg" --entrypoint sh "$IMAGE" -c "$WRITE")
echo "public files in $CONFIG_DIR: $result"
