# Shared by the integration scripts: sourced, never run.
# Each script exits 0 (pass), 77 (skip: say why on the last line) or 1 (fail).
set -uo pipefail
: "${WS_BIN:?run through tests/run.sh (WS_BIN is not set)}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/winstate-it-XXXXXX")
cleanup() {
	for m in $(grep -o " $WORK/[^ ]*" /proc/mounts 2>/dev/null); do umount "$m" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "$*"; exit 77; }

# run EXPECTED_EXIT CMD...: run, keep stdout/stderr in $OUT/$ERR, check the exit code.
run() {
	local want=$1; shift
	"$@" >"$WORK/out" 2>"$WORK/err"
	local got=$?
	OUT=$(cat "$WORK/out"); ERR=$(cat "$WORK/err")
	[ "$got" -eq "$want" ] || fail "$* exited $got, expected $want; stderr: $ERR"
}
contains() { grep -qF -- "$2" <<<"$1" || fail "expected \"$2\" in: $1"; }
lacks() { ! grep -qF -- "$2" <<<"$1" || fail "did not expect \"$2\" in: $1"; }

fixture() {
	local f="$WS_FIXTURES/$1"
	[ -e "$f" ] || skip "fixture $f is not built (make fixtures)"
	echo "$f"
}
