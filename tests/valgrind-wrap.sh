#!/usr/bin/env bash
# winstate under valgrind (memcheck), for the integration tests.
#
#   tests/valgrind-wrap.sh --run BUILD FIXTURES RESULTS [SCRIPT...]
#       run tests/integration/*.sh (or the SCRIPTs named) with WS_BIN set to
#       this wrapper around BUILD/winstate (`make valgrind` does this), keep
#       score in RESULTS like tests/run.sh, and list every valgrind report.
#   tests/valgrind-wrap.sh ARGS...  (as WS_BIN, or through a link named
#       scanstate/loadstate/usmtutils): run WS_VALGRIND_BIN under valgrind,
#       with the name it was called by; exit 99 when valgrind finds an error
#       (invalid access, uninitialised value, a definite leak), its report in
#       WS_VALGRIND_LOGS/NAME.PID.log.
#
# The boot tests (boot_*.sh) start the image under QEMU and do not run
# WS_BIN on this machine, and scan_kill counts the write calls of the traced
# process (valgrind itself here): they are skipped here.
set -uo pipefail

if [ "${1:-}" != "--run" ]; then
	: "${WS_VALGRIND_BIN:?set by tests/valgrind-wrap.sh --run}"
	: "${WS_VALGRIND_LOGS:?set by tests/valgrind-wrap.sh --run}"
	# winstate picks its spelling (scanstate, loadstate...) from argv[0].
	name=$(basename "$0")
	[ "$name" = valgrind-wrap.sh ] && name=winstate
	links=$WS_VALGRIND_LOGS.bin
	mkdir -p "$links"
	[ -e "$links/$name" ] || ln -sf "$WS_VALGRIND_BIN" "$links/$name"
	# exec: a test that kills "winstate" (scan_kill, load_kill) kills valgrind
	# itself, not a shell that would leave it running.  An empty log is no report.
	exec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		--show-leak-kinds=definite --track-origins=no \
		--log-file="$WS_VALGRIND_LOGS/$name.%p.log" "$links/$name" "$@"
fi

shift
[ $# -ge 3 ] || { echo "usage: $0 --run BUILD FIXTURES RESULTS [SCRIPT...]" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd) || exit 2
fixtures=$(cd "$2" && pwd) || exit 2
results=$3
shift 3
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
scripts=("$@")
[ ${#scripts[@]} -gt 0 ] || scripts=("$top"/tests/integration/*.sh)

export WS_VALGRIND_BIN=$build/winstate
export WS_VALGRIND_LOGS=$build/valgrind-logs
export WS_BIN=$top/tests/valgrind-wrap.sh
export WS_BUILD=$build WS_FIXTURES=$fixtures WS_TOOLS=$build/tools WS_TOP=$top
export WS_SHARED=${WS_SHARED:-$(cd "$top/.." && pwd)/shared}
# The trial loops run a few trials each: valgrind is 20-50 times slower.
export WS_KILL_TRIALS=${WS_KILL_TRIALS:-2} WS_BITFLIP_TRIALS=${WS_BITFLIP_TRIALS:-4}
rm -rf "$WS_VALGRIND_LOGS" "$WS_VALGRIND_LOGS.bin"
mkdir -p "$WS_VALGRIND_LOGS" "$(dirname "$results")"
passed=0 failed=0 skipped=0 start=$(date +%s)
log=$(mktemp)
for script in "${scripts[@]}"; do
	name=$(basename "$script" .sh)
	case $name in
	boot_*) echo "SKIP $name: runs winstate inside QEMU, not WS_BIN"; skipped=$((skipped + 1)); continue ;;
	scan_kill) # it signals at the Nth write call of the traced process: under valgrind
		# valgrind's own system calls are counted too.
		[ -n "${WS_VALGRIND_ALL:-}" ] || {
			echo "SKIP $name: kills at counted write calls, which valgrind's own calls move (WS_VALGRIND_ALL=1 runs it)"
			skipped=$((skipped + 1)); continue; } ;;
	esac
	t0=$(date +%s)
	bash "$script" >"$log" 2>&1
	rc=$?
	t=$(($(date +%s) - t0))
	# valgrind's reports from this script's runs (empty logs are clean runs).
	find "$WS_VALGRIND_LOGS" -name '*.log' -empty -delete
	for f in "$WS_VALGRIND_LOGS"/*.log; do
		[ -f "$f" ] && [ ! -e "$f.seen" ] || continue
		echo "   valgrind report from $name: $f"; head -n 30 "$f" | sed 's/^/    /'; : >"$f.seen"
	done
	case $rc in
	0) passed=$((passed + 1)); echo "PASS $name (${t}s)" ;;
	77) skipped=$((skipped + 1)); echo "SKIP $name: $(tail -n 1 "$log")" ;;
	*) failed=$((failed + 1)); echo "FAIL $name (exit $rc, ${t}s)"; tail -n 30 "$log" | sed 's/^/    /' ;;
	esac
done
rm -f "$log"
find "$WS_VALGRIND_LOGS" -name '*.log' -empty -delete
reports=$(find "$WS_VALGRIND_LOGS" -name '*.log' | wc -l)
echo "valgrind: $passed passed, $failed failed, $skipped skipped in $(($(date +%s) - start)) s;" \
	"$reports valgrind report(s) in $WS_VALGRIND_LOGS"
echo "$passed $failed $skipped" >"$results"
[ "$failed" -eq 0 ] && [ "$reports" -eq 0 ]
