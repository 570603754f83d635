#!/usr/bin/env bash
# The command line refuses what it cannot do, with a sentence and the documented code.
. "$(dirname "$0")/common.bash"

run 2 "$WS_BIN"
contains "$ERR" "usage: winstate <command>"
run 2 "$WS_BIN" frobnicate
contains "$ERR" "unknown command 'frobnicate'"
run 0 "$WS_BIN" --help
contains "$OUT" "volumes"
run 2 "$WS_BIN" volumes
run 2 "$WS_BIN" volumes a b
run 2 "$WS_BIN" volumes --bogus x
run 3 "$WS_BIN" volumes "$WORK/none.img"
contains "$ERR" "none.img"
run 2 "$WS_BIN" ls
run 2 "$WS_BIN" ls x.img:0
contains "$ERR" "numbered from 1"

head -c 4194304 /dev/urandom >"$WORK/random.img"
run 3 "$WS_BIN" ls "$WORK/random.img"
contains "$ERR" "not an NTFS volume"
truncate -s 8M "$WORK/blank.img"
run 3 "$WS_BIN" ls "$WORK/blank.img"
contains "$ERR" "no filesystem"
run 0 "$WS_BIN" volumes "$WORK/random.img"
contains "$OUT" "not NTFS"

truncate -s 16M "$WORK/vol.img"
mkntfs -q -F -f "$WORK/vol.img" >/dev/null 2>&1 || fail "mkntfs"
run 3 "$WS_BIN" ls "$WORK/vol.img:2"
contains "$ERR" "no partition table"
run 3 "$WS_BIN" ls "$WORK/vol.img" /No/Such/Folder
contains "$ERR" "does not exist"
head -c 65536 "$WORK/vol.img" >"$WORK/short.img"
run 3 "$WS_BIN" ls "$WORK/short.img"
contains "$ERR" "truncated"

# The USMT spellings are the same program.
ln -s "$WS_BIN" "$WORK/scanstate"
ln -s "$WS_BIN" "$WORK/loadstate"
run 11 "$WORK/scanstate"
contains "$ERR" "StorePath"
run 11 "$WORK/scanstate" 'D:\Store' /hardlink
contains "$ERR" "needs /nocompress"
run 1 "$WORK/scanstate" '/?'
contains "$OUT" "usage: scanstate"
run 36 "$WORK/loadstate" 'D:\Store' '/offlinewindir:C:\Windows'
run 12 "$WORK/scanstate" "$(printf 'x%.0s' $(seq 300))"
exit 0
