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
contains "$ERR" "unexpected argument 'b'"
run 2 "$WS_BIN" volumes --bogus x
contains "$ERR" "winstate volumes: unknown option '--bogus' (see --help)"
run 2 "$WS_BIN" volumes --json=yes x
contains "$ERR" "--json takes no value"

# The version is the VERSION file's, for the program and every command.
version=$(cat "$WS_TOP/VERSION")
run 0 "$WS_BIN" --version
[ "$OUT" = "winstate $version" ] || fail "winstate --version printed '$OUT', VERSION says $version"
run 0 "$WS_BIN" -V
[ "$OUT" = "winstate $version" ] || fail "winstate -V printed '$OUT'"
for cmd in volumes ls users reg rules explain genconfig scan load migrate-winold verify list \
	extract rmstore; do
	run 0 "$WS_BIN" "$cmd" --version
	[ "$OUT" = "winstate $version" ] || fail "winstate $cmd --version printed '$OUT'"
	run 0 "$WS_BIN" "$cmd" --help
	contains "$OUT" "usage: winstate $cmd"
done

# Every command reads its options one way: the same sentences, exit code 2.
for cmd in volumes ls users reg explain genconfig scan load migrate-winold verify list \
	extract rmstore; do
	run 2 "$WS_BIN" "$cmd" --no-such-option
	contains "$ERR" "winstate $cmd: unknown option '--no-such-option' (see --help)"
done
for cmd_opt in "users --windir" "reg --hive" "explain --rules" "genconfig --rules" \
	"genconfig -o" "scan --rules" "load --rules" "migrate-winold --store" "verify --key" \
	"extract --user" "rmstore --target"; do
	cmd=${cmd_opt% *}; opt=${cmd_opt#* }
	run 2 "$WS_BIN" $cmd_opt
	contains "$ERR" "winstate $cmd: $opt needs a value"
done
run 2 "$WS_BIN" rules check --no-such-option
contains "$ERR" "winstate rules check: unknown option '--no-such-option'"
run 2 "$WS_BIN" ls x.img Folder extra
contains "$ERR" "winstate ls: unexpected argument 'extra'"
run 2 "$WS_BIN" scan a b c
contains "$ERR" "winstate scan: unexpected argument 'c': give SOURCE and STORE only"
run 2 "$WS_BIN" verify a b
contains "$ERR" "winstate verify: unexpected argument 'b': give one store"
# An abbreviation is not the option it starts (it would change meaning when
# an option with the same start is added).
run 2 "$WS_BIN" scan a b --over
contains "$ERR" "unknown option '--over'"
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
