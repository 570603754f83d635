#!/usr/bin/env bash
# A capture killed at any moment never leaves a store that claims to be
# complete, and a rerun with --overwrite succeeds.  SIGTERM/SIGINT in the
# middle of the walk abort cleanly with exit 4 and the capture's own message.
#
# The kills land exactly at a chosen write to the store, not after a delay:
# strace -e inject=SYSCALL:signal=SIGKILL:when=N stops the capture on entering
# its Nth write (counted per thread; the capture's own thread does them all).
# A clean traced capture of each format first lists which of its writes go to
# the store (not to stdout or stderr); the trials kill at the first one, at a
# third, at two thirds and at the last one (the trailer, or the catalog's
# rename of a hard-link store).
# Directory and compressed stores are written with write(2), a hard-link store
# through libntfs-3g's pwrite64(2) to the image.
. "$(dirname "$0")/common.bash"

vol=$(fixture volume.img)
command -v strace >/dev/null || fail "strace is not installed (make deps installs it)"
cd "$WORK" || fail "cd"
# LeakSanitizer cannot run under ptrace: traced runs of an ASan build leave it out.
traced() { ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" strace "$@"; }

# check_store FORMAT STORE: fail if the store looks complete but is not;
# true when it is complete.
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

# format_args FORMAT: sets SYSCALL and ARGS for the format.
format_args() {
	case $1 in
	compressed) SYSCALL=write; ARGS=() ;;
	directory) SYSCALL=write; ARGS=(--nocompress) ;;
	hardlink) SYSCALL=pwrite64; ARGS=(--nocompress --hardlink) ;;
	esac
}

# capture FORMAT STORE [STRACE_OPTIONS...]: the capture of the trials; a
# hard-link one replaces the complete store of hl-base.img, on a fresh copy.
capture() {
	local fmt=$1 st=$2; shift 2
	format_args "$fmt"
	if [ "$fmt" = hardlink ]; then
		cp --sparse=always hl-base.img hl.img
		traced -f "$@" "$WS_BIN" scan hl.img MigStore "${ARGS[@]}" --efs skip --overwrite
	else
		traced -f "$@" "$WS_BIN" scan "$vol" "$st" "${ARGS[@]}" --efs skip
	fi
}

# store_writes TRACE SYSCALL: the numbers (1 = the thread's first SYSCALL) of
# the calls that wrote the store, in the thread that made the most of them.
store_writes() {
	awk -v sc="$2" '
	match($0, "^[0-9]+ +" sc "\\([0-9]+") {
		pid = $1; fd = substr($0, RSTART, RLENGTH); sub(/.*\(/, "", fd)
		n[pid]++
		if (fd != 1 && fd != 2) { w[pid] = w[pid] " " n[pid]; c[pid]++ }
	}
	END { for (p in c) if (c[p] > best) { best = c[p]; list = w[p] }; print list }' "$1"
}

cp --sparse=always "$vol" hl.img
run 0 "$WS_BIN" scan hl.img MigStore --nocompress --hardlink --efs skip
cp --sparse=always hl.img hl-base.img

declare -A WRITES
for fmt in compressed directory hardlink; do
	format_args "$fmt"
	capture "$fmt" "ref-$fmt" -o "ref-$fmt.trace" -e "trace=$SYSCALL" >/dev/null 2>"ref-$fmt.err" ||
		fail "the clean traced $fmt capture failed: $(tail -3 "ref-$fmt.err")"
	WRITES[$fmt]=$(store_writes "ref-$fmt.trace" "$SYSCALL")
	set -- ${WRITES[$fmt]}
	[ $# -ge 8 ] || fail "the clean $fmt capture made only $# $SYSCALL calls to its store"
	[ "$fmt" = hardlink ] || check_store "$fmt" "ref-$fmt" || fail "the clean $fmt capture is not complete"
	echo "$fmt: a clean capture makes $# $SYSCALL calls to its store"
done

trial=0 damaged=0
for fmt in compressed directory hardlink; do
	format_args "$fmt"
	set -- ${WRITES[$fmt]}
	total=$#
	picks=(1 $((total / 3)) $((2 * total / 3)) "$total")
	# A hard-link capture ends by renaming its catalog through libntfs-3g (no
	# journal): a kill inside that rename can leave a name its folder lists
	# but its index cannot find. The rerun's --overwrite then finds that
	# before removing anything and says the volume is damaged there.
	for pick in "${picks[@]}"; do
		trial=$((trial + 1))
		at=${!pick}
		where="$fmt trial $trial (killed at $SYSCALL $at, store write $pick of $total)"
		capture "$fmt" "st$trial" -o /dev/null -e "trace=$SYSCALL" \
			-e "inject=$SYSCALL:signal=SIGKILL:when=$at" >/dev/null 2>"kill.err"
		rc=$?
		[ $rc -eq 137 ] || fail "$where: the capture was not killed (exit $rc): $(tail -3 kill.err)"
		if [ "$fmt" = hardlink ]; then
			# The volume stays usable, and a rerun replaces what was left; or, when
			# the kill half-wrote an index block of the store (libntfs-3g has no
			# journal), the rerun names the damaged folder and removes nothing
			# (scan_damaged_old_store tests that case on purpose).
			"$WS_BIN" scan hl.img MigStore "${ARGS[@]}" --efs skip --overwrite >out.txt 2>err.txt
			rc=$?
			if [ $rc -eq 3 ] && grep -q "the volume is damaged there" err.txt; then
				echo "$where: the kill damaged the old store: $(cat err.txt)"
				damaged=$((damaged + 1))
				continue
			fi
			[ $rc -eq 0 ] || fail "$where: the rerun exited $rc: $(cat err.txt)"
			run 0 "$WS_BIN" ls hl.img MigStore/catalog
			continue
		fi
		! check_store "$fmt" "st$trial" || fail "$where: the store claims to be complete"
		run 0 "$WS_BIN" scan "$vol" "st$trial" "${ARGS[@]}" --efs skip --overwrite
		check_store "$fmt" "st$trial" || fail "$where: the rerun did not complete the store"
	done
done
echo "killed $trial captures at chosen writes, none left a store claiming to be complete;" \
	"$damaged hard-link kill(s) left the old store damaged"

# SIGTERM and SIGINT half-way through the compressed capture's store writes:
# a clean abort with the capture's own message and exit code, no store.
set -- ${WRITES[compressed]}
half=$(($# / 2))
at=${!half}
for sig in TERM INT; do
	capture compressed "term-$sig" -o /dev/null -e trace=write \
		-e "inject=write:signal=SIG$sig:when=$at" >out.txt 2>err.txt
	rc=$?
	[ $rc -eq 4 ] || fail "SIG$sig at write $at: exit $rc, expected 4 (canceled): $(tail -3 err.txt)"
	grep -q "stopped by signal" err.txt || fail "SIG$sig: $(cat err.txt)"
	! check_store compressed "term-$sig" || fail "SIG$sig left a complete-looking store"
done
exit 0
