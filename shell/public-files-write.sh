# Runs inside a throwaway container (the pinned HAProxy image's busybox sh) with the target folder
# mounted at $DIR: replaces the folder's *.pem files with exactly the ones on standard input (a
# homelab file bundle; render/reload.ts packFiles), readable by everyone: CA certificates only,
# never a key. Prints "changed" or "unchanged". Needs lib.sh (unpack) before it: render/reload.ts
# PUBLIC_FILES_WRITE puts the two together.
# shellcheck shell=sh
set -eu
umask 022
DIR="${DIR:-/cfg}"
STAGE="$DIR/.incoming"
rm -rf "$STAGE"
mkdir -p "$STAGE"
unpack "$STAGE"
for f in "$STAGE"/*; do
  [ -e "$f" ] || continue
  case "$(basename "$f")" in
    *.pem) ;;
    *) echo "homelab: $(basename "$f") is not a .pem file" >&2; rm -rf "$STAGE"; exit 2 ;;
  esac
  if grep -q 'PRIVATE KEY' "$f"; then
    echo "homelab: $(basename "$f") holds a private key; this folder is for public certificates only" >&2
    rm -rf "$STAGE"
    exit 2
  fi
done
changed=no
for f in "$DIR"/*.pem; do
  [ -e "$f" ] || continue
  if [ ! -e "$STAGE/$(basename "$f")" ]; then rm -f "$f"; changed=yes; fi
done
for f in "$STAGE"/*.pem; do
  [ -e "$f" ] || continue
  n=$(basename "$f")
  cmp -s "$f" "$DIR/$n" || changed=yes
  chmod 644 "$f"
  mv "$f" "$DIR/$n"
done
rm -rf "$STAGE"
if [ "$changed" = yes ]; then echo changed; else echo unchanged; fi
