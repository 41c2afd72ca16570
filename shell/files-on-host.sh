#!/bin/sh
# Runs where `pulumi up` runs, against the Docker engine in DOCKER_HOST: puts the files on standard
# input (a homelab file bundle) into CONFIG_DIR on the Docker host through a throwaway container of
# IMAGE that runs WRITE (shell/files-write.sh with its unpack function); a key in them becomes
# OWNER's alone. The status container's and the dashboard's folders (homelab:monitoring,
# homelab:dashboard): both programs read their config again when it changes, so no container is
# restarted or replaced.
set -eu
: "${CONFIG_DIR:?}" "${IMAGE:?}" "${WRITE:?}" "${OWNER:?}"
result=$(docker run --rm -i --user 0 --network none -e OWNER="$OWNER" -e IN_PLACE="${IN_PLACE:-}" -e LAST="${LAST:-}" -v "$CONFIG_DIR:/cfg" --entrypoint sh "$IMAGE" -c "$WRITE")
echo "files in $CONFIG_DIR: $result"
