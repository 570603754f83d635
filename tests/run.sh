#!/usr/bin/env bash
# Runs winstate's test suite and keeps score.
#
#   tests/run.sh --run BUILD FIXTURES RESULTS   run every unit binary and integration script
#   tests/run.sh --summary RESULTS...           add up result files, print the closing line
#
# Unit tests are Criterion binaries (BUILD/tests/unit-*); integration tests are
# tests/integration/*.sh, each exiting 0 (pass), 77 (skip, with a reason on
# stdout) or anything else (fail).  A RESULTS file holds "passed failed skipped".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

summary() {
	local p=0 f=0 s=0 a b c
	for file in "$@"; do
		[ -f "$file" ] || { echo "run.sh: missing results file $file" >&2; f=$((f + 1)); continue; }
		read -r a b c <"$file"
		p=$((p + a)); f=$((f + b)); s=$((s + c))
	done
	echo "check: $p passed, $f failed, $s skipped"
	[ "$f" -eq 0 ]
}

run() {
	local build=$1 fixtures=$2 results=$3
	local passed=0 failed=0 skipped=0
	export WS_BUILD=$(cd "$top/$build" 2>/dev/null && pwd || echo "$build")
	export WS_FIXTURES=$(cd "$fixtures" 2>/dev/null && pwd || echo "$fixtures")
	export WS_BIN="$WS_BUILD/winstate"
	export WS_TOOLS="$WS_BUILD/tools"
	export WS_SHARED=${WS_SHARED:-$(cd "$top/.." && pwd)/shared}
	export WS_TOP=$top
	# Leak reports from Criterion's own runner are not ours to fix (tests/lsan.supp).
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
	export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top/tests/lsan.supp:print_suppressions=0}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	mkdir -p "$(dirname "$results")"
	local log
	log=$(mktemp)
	for bin in "$build"/tests/unit-*; do
		[ -x "$bin" ] || continue
		echo "== $(basename "$bin") ($build)"
		"$bin" --verbose --jobs 2 --timeout 600 >"$log" 2>&1
		local rc=$?
		# Passing tests are counted, not listed; failures and skips (with why) are shown.
		grep -a -v -E '^\[(RUN |PASS)\]' "$log"
		local line
		line=$(grep -a 'Synthesis: Tested:' "$log" | tail -n 1)
		if [ -z "$line" ]; then
			echo "!! $(basename "$bin") printed no Criterion summary (exit $rc)"
			failed=$((failed + 1))
			continue
		fi
		local t pa fa cr
		t=$(sed -E 's/.*Tested: ([0-9]+).*/\1/' <<<"$line")
		pa=$(sed -E 's/.*Passing: ([0-9]+).*/\1/' <<<"$line")
		fa=$(sed -E 's/.*Failing: ([0-9]+).*/\1/' <<<"$line")
		cr=$(sed -E 's/.*Crashing: ([0-9]+).*/\1/' <<<"$line")
		passed=$((passed + pa)); failed=$((failed + fa))
		local sk
		sk=$(grep -a -c '^\[SKIP\]' "$log")
		skipped=$((skipped + sk))
		if [ "$rc" -ne 0 ] && [ "$fa" -eq 0 ]; then
			echo "!! $(basename "$bin") exited $rc"
			failed=$((failed + 1))
		fi
		: "$t" "$cr"
	done
	for script in "$top"/tests/integration/*.sh; do
		[ -f "$script" ] || continue
		local name
		name=$(basename "$script" .sh)
		bash "$script" >"$log" 2>&1
		local rc=$?
		case $rc in
		0) passed=$((passed + 1)); echo "PASS $name" ;;
		77) skipped=$((skipped + 1)); echo "SKIP $name: $(tail -n 1 "$log")" ;;
		*) failed=$((failed + 1)); echo "FAIL $name (exit $rc)"; sed 's/^/    /' "$log" | tail -n 40 ;;
		esac
	done
	rm -f "$log"
	echo "$passed $failed $skipped" >"$results"
	echo "$(basename "$build"): $passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
}

case ${1:-} in
--run) shift; run "$@" ;;
--summary) shift; summary "$@" ;;
*) echo "usage: $0 --run BUILD FIXTURES RESULTS | --summary RESULTS..." >&2; exit 2 ;;
esac
