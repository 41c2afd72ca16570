#!/bin/sh
# The shared library of the scripts that take a homelab file bundle on standard input
# (render/reload.ts packFiles): render/shell.ts puts it in front of each of them, since they run
# through `sh -c` (in containers, over SSH) where nothing can be sourced.
# shellcheck shell=sh

# unpack DIR: reads a bundle on stdin into DIR (awk: busybox, mawk, BSD awk).
unpack() {
  awk -v dir="$1" '
    n == 0 {
      if ($1 != "#homelab-file" || NF != 3 || $2 !~ /^[A-Za-z0-9._-]+$/ || $3 !~ /^[0-9]+$/) { bad = 1; exit }
      f = dir "/" $2; n = $3 + 0; printf "" > f
      if (n == 0) close(f)
      next
    }
    { print > f; n--; if (n == 0) close(f) }
    END {
      if (bad) { print "homelab: malformed input (not a homelab file bundle)" > "/dev/stderr"; exit 2 }
      if (n != 0) { print "homelab: truncated input" > "/dev/stderr"; exit 2 }
    }'
}

# require FILE...: fail unless each named file arrived in $STAGE.
require() {
  for f in "$@"; do
    [ -f "$STAGE/$f" ] || { echo "homelab: $f is missing from the input" >&2; exit 2; }
  done
}

# remove_stale: removes the files in $DIR that the bundle just written did not have ($names: its
# file names, space-separated and padded with spaces), and sets changed=yes when it removes one.
# shellcheck disable=SC2154,SC2034 # names is the caller's; changed is read by the caller
remove_stale() {
  for f in "$DIR"/*; do
    [ -f "$f" ] || continue
    case "$names" in *" $(basename "$f") "*) ;; *) rm -f "$f"; changed=yes ;; esac
  done
}
