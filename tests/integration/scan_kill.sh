#!/usr/bin/env bash
# A capture killed at a random moment (SIGKILL, 10-500 ms in) never leaves a
# store that claims to be complete, and a rerun with --overwrite succeeds.
# SIGTERM/SIGINT abort cleanly with exit 4 (scanstate: 2).
. "$(dirname "$0")/common.bash"

vol=$(fixture volume.img)
cd "$WORK" || fail "cd"
cp --sparse=always "$vol" hl.img

# complete_or_not FORMAT STORE: fail if the store looks complete but is not.
check_store() {
	local fmt=$1 st=$2
	case $fmt in
	compressed)
		if [ -e "$st/USMT/USMT.MIG" ]; then
			# A finished store ends with its trailer (96 bytes, format version 2).
			[ "$(tail -c 96 "$st/USMT/USMT.MIG" | head -c 7)" = "WSTPEND" ] ||
				fail "$st/USMT/USMT.MIG has no trailer but is named as complete"
			[ -f "$st/report.json" ] || fail "complete store without report.json"
			return 0
		fi ;;
	directory)
		if [ -e "$st/catalog" ]; then
			[ "$(head -c 7 "$st/catalog")" = "WSCATLG" ] || fail "$st/catalog is not a catalog"
			return 0
		fi ;;
	esac
	return 1
}

complete=0 killed=0
for trial in $(seq 1 12); do
	case $((trial % 3)) in
	0) fmt=compressed; args=() ;;
	1) fmt=directory; args=(--nocompress) ;;
	2) fmt=hardlink; args=(--nocompress --hardlink) ;;
	esac
	ms=$((10 + RANDOM % 491))
	if [ $fmt = hardlink ]; then
		"$WS_BIN" scan hl.img MigStore "${args[@]}" --efs skip --overwrite >/dev/null 2>&1 &
	else
		"$WS_BIN" scan "$vol" "st$trial" "${args[@]}" --efs skip >/dev/null 2>&1 &
	fi
	pid=$!
	sleep "$(printf '0.%03d' "$ms")"
	kill -KILL "$pid" 2>/dev/null && killed=$((killed + 1))
	wait "$pid" 2>/dev/null
	if [ $fmt = hardlink ]; then
		# The volume stays usable, and a rerun replaces what was left; or, when
		# the kill half-wrote an index block of the store (libntfs-3g has no
		# journal), the rerun names the damaged folder and removes nothing
		# (scan_damaged_old_store tests that case on purpose).
		"$WS_BIN" scan hl.img MigStore "${args[@]}" --efs skip --overwrite >out.txt 2>err.txt
		rc=$?
		if [ $rc -eq 3 ] && grep -q "the volume is damaged there" err.txt; then
			echo "trial $trial: the kill damaged the old store: $(cat err.txt)"
			cp --sparse=always "$vol" hl.img
			continue
		fi
		[ $rc -eq 0 ] || fail "trial $trial: the rerun exited $rc: $(cat err.txt)"
		run 0 "$WS_BIN" ls hl.img MigStore/catalog
		continue
	fi
	check_store $fmt "st$trial" && complete=$((complete + 1))
	run 0 "$WS_BIN" scan "$vol" "st$trial" "${args[@]}" --efs skip --overwrite
	check_store $fmt "st$trial" || fail "trial $trial: the rerun did not complete the store"
done
echo "killed $killed of 12 captures ($complete had already finished)"
[ "$killed" -ge 8 ] || fail "too few captures were still running when killed"

# SIGTERM: a clean abort with the capture's own message and exit code.
for sig in TERM INT; do
	"$WS_BIN" scan "$vol" "term-$sig" --efs skip >out.txt 2>err.txt &
	pid=$!
	sleep 0.3
	kill -$sig "$pid"
	wait "$pid"
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "the capture finished before SIG$sig"
	else
		[ $rc -eq 4 ] || fail "SIG$sig: exit $rc, expected 4: $(cat err.txt)"
		grep -q "stopped by signal" err.txt || fail "SIG$sig: $(cat err.txt)"
		[ ! -e "term-$sig/USMT/USMT.MIG" ] || fail "SIG$sig left a complete-looking store"
	fi
done
exit 0
