#!/usr/bin/env bash
# After "Windows reinstalled without formatting" (tests/fixtures/reinstall.sh),
# the old installation is found in Windows.old with its users and profiles.
. "$(dirname "$0")/common.bash"

vol=$(fixture volume.img)
. "$(fixture fixture.env)"
cp --sparse=always "$vol" "$WORK/refresh.img"
WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" "$WORK/refresh.img" >"$WORK/reinstall.log" 2>&1 \
	|| fail "reinstall.sh: $(tail -5 "$WORK/reinstall.log")"

run 0 "$WS_BIN" volumes "$WORK/refresh.img"
contains "$OUT" "Windows installed, Windows.old present"

# The new Windows comes first and has only the system profiles.
run 0 "$WS_BIN" users "$WORK/refresh.img" --no-sizes --json
python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["windows"]["windir"] == "Windows", d["windows"]
sids = [u["sid"] for u in d["users"] if u["sid"]]
assert all(s in ("S-1-5-18", "S-1-5-19", "S-1-5-20") for s in sids), sids
' <<<"$OUT" || fail "the new Windows: $OUT"

run 0 "$WS_BIN" users "$WORK/refresh.img" --windir Windows.old/Windows --json
python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["windows"]["windows_old"], d["windows"]
alice = [u for u in d["users"] if u["sid"] == sys.argv[1]][0]
assert alice["volume_path"] == "Windows.old/Users/alice", alice
assert alice["folder_exists"] and alice["files"] > 0, alice
assert alice["name"] == "alice", alice
' "$ALICE_SID" <<<"$OUT" || fail "Windows.old users: $OUT"
exit 0
