#!/bin/sh
# Runs where `pulumi up` runs, against the Docker engine in DOCKER_HOST: puts the files on standard
# input (a homelab file bundle) into CONFIG_DIR on the Docker host through a throwaway container of
# IMAGE (the pinned HAProxy image: its busybox sh) that runs WRITE, one of the writers in shell/
# with its unpack function: public-files-write.sh (cloudflared's CA folder: certificates only) or
# files-write.sh (the status container's and the dashboard's folders; OWNER, IN_PLACE and LAST are
# its). No container is replaced: each reader rereads its folder when it changes.
set -eu
: "${CONFIG_DIR:?}" "${IMAGE:?}" "${WRITE:?}"
result=$(docker run --rm -i --user 0 --network none -e OWNER="${OWNER:-}" -e IN_PLACE="${IN_PLACE:-}" -e LAST="${LAST:-}" -v "$CONFIG_DIR:/cfg" --entrypoint sh "$IMAGE" -c "$WRITE")
echo "files in $CONFIG_DIR: $result"
