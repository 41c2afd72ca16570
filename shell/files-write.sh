# Runs inside a throwaway container (the pinned HAProxy image's busybox sh) with the target folder
# mounted at $DIR: makes the folder hold exactly the files on standard input (a homelab file
# bundle; render/reload.ts packFiles), each renamed into place, except the files named in $IN_PLACE,
# which are written in place (a file bind-mounted on its own, such as the status container's
# /etc/hosts, must keep its inode for the container to see the new content). A file holding a private key is $OWNER's alone (0600); every other file is readable by
# all (0644); the files named in $LAST are put in place after the others. Prints "changed" or
# "unchanged". Needs lib.sh (unpack) before it: render/reload.ts
# FILES_WRITE puts the two together (remove_stale too).
# shellcheck shell=sh
set -eu
umask 077
DIR="${DIR:-/cfg}"
: "${OWNER:?}"
STAGE="$DIR/.incoming"
rm -rf "$STAGE"
mkdir -p "$STAGE"
unpack "$STAGE"
changed=no
names=" "
# The files named in $LAST go in after the others: a program that rereads its config when it
# changes (Gatus, Glance) then finds the files it names (a renewed certificate and key) already new.
order=""
for f in "$STAGE"/*; do
  [ -f "$f" ] || continue
  case " ${LAST:-} " in *" $(basename "$f") "*) ;; *) order="$order $f" ;; esac
done
for n in ${LAST:-}; do
  if [ -f "$STAGE/$n" ]; then order="$order $STAGE/$n"; fi
done
for f in $order; do
  n=$(basename "$f")
  names="$names$n "
  t="$DIR/$n"
  if grep -q 'PRIVATE KEY' "$f"; then mode=600; owner="$OWNER"; else mode=644; owner=0:0; fi
  # Mode and owner before the content is in place: a key is never readable by others, not even briefly.
  chown "$owner" "$f"
  chmod "$mode" "$f"
  cmp -s "$f" "$t" && continue
  changed=yes
  case " ${IN_PLACE:-} " in
    *" $n "*)
      # Mounted on its own: written in place, so the container's mount keeps seeing it.
      [ -f "$t" ] || : >"$t"
      chown "$owner" "$t"
      chmod "$mode" "$t"
      cat "$f" >"$t"
      ;;
    *) mv "$f" "$t" ;; # renamed into place: a reader sees the old file or the new one, whole.
  esac
done
remove_stale
rm -rf "$STAGE"
chmod 755 "$DIR"
if [ "$changed" = yes ]; then echo changed; else echo unchanged; fi
