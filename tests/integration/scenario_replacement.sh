#!/usr/bin/env bash
# Scenario 4, PC replacement: alice and bob are captured from PC A (WS-PC01)
# into a compressed store and restored onto a different disk, PC B (WS-PC02:
# a fresh Windows with its own machine SID and local accounts, made by
# reinstall.sh --machine B).  alice becomes B's local account "someone"
# through /mu (winstate and loadstate spellings, each on its own copy of B);
# bob is matched by name to B's own "bob", whose SID differs.
#
# Checked through the ntfs-3g driver and hivex's tools (restore_checks.bash):
# every captured file at its place with the same content, named streams,
# reparse data, times and attributes (LZNT1 compression included), and the
# captured descriptor with A's SIDs replaced by B's; hard links; registry
# values in the new NTUSER.DAT and in a UsrClass.dat made for the new profile;
# the ProfileList entries and nothing else in SOFTWARE; no other file of B
# changed (content and metadata); nothing written when a mapping names an
# account B does not have; a local account without a mapping is named (rc 14).
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/restore_checks.bash"

vol=$(fixture volume.img)
. "$(fixture fixture.env)"
for t in hivexregedit hivexml getfattr; do
	command -v $t >/dev/null || fail "$t is not installed (libhivex-bin, attr; make deps installs them)"
done
[ -n "${MACHINE_B_SOMEONE_SID:-}" ] || fail "fixture.env has no MACHINE_B_* keys (make fixtures)"

# PC A: capture alice and bob, their Classes values included.
classes_rules "$WORK/classes.xml"
cp --sparse=always "$vol" "$WORK/a.img"
run 0 "$WS_BIN" scan "$WORK/a.img" "$WORK/store" --efs skip --ui alice --ui bob --ue '*' \
	--rules "$WS_TOP/rules/xml/winstate-default.xml" --rules "$WORK/classes.xml"
"$WS_BIN" list "$WORK/store" --json >"$WORK/list.json" || fail "winstate list"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert {u["name"] for u in d["users"]} == {"alice", "bob"}, d["users"]
assert any("\\Software\\Classes\\" in r["key"] for r in d["registry"]), "no Classes value captured"
' "$WORK/list.json" || fail "the store does not hold what the test needs"

# Public gains the system's share of the store (the fixture's own files there
# come back beside the new Windows' as name(1)); nothing else in it changes.
public_share() { grep -v -E '^Users/Public/(Pictures/office-party\.jpg|Downloads/driver-setup\.zip|Documents/shared-readme\(1\)\.txt|[A-Za-z]+/desktop\(1\)\.ini|Desktop/Microsoft Edge\(1\)\.lnk) '; }

# PC B, twice: one for each spelling.
for b in b1 b2; do
	cp --sparse=always "$vol" "$WORK/$b.img"
	WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" --machine B "$WORK/$b.img" \
		>"$WORK/reinstall.log" 2>&1 || fail "reinstall.sh --machine B: $(tail -5 "$WORK/reinstall.log")"
	mnt "$WORK/$b.img" "$WORK/m" ro,streams_interface=xattr
	[ ! -e "$WORK/m/Users/alice" ] && [ ! -e "$WORK/m/Windows.old" ] || fail "machine B still has A's files"
	listing "$WORK/m" Users/someone Users/bob >"$WORK/$b.before" || fail "listing of $b"
	hivexregedit --export "$WORK/m/Windows/System32/config/SOFTWARE" '\' >"$WORK/$b.software.before" ||
		fail "SOFTWARE of $b"
	umnt "$WORK/m"
done

# A mapping to an account B does not have is refused before anything is written.
run 2 "$WS_BIN" load "$WORK/store" "$WORK/b1.img" --mu 'WS-PC01\alice:WS-PC02\nobody'
contains "$ERR" "give its SID"

# The restores: winstate spelling on b1, loadstate spelling on b2.
run 0 "$WS_BIN" load "$WORK/store" "$WORK/b1.img" --mu "WS-PC01\\alice:$MACHINE_B_NAME\\someone" --json
python3 - "$OUT" "$MACHINE_B_SOMEONE_SID" "$MACHINE_B_BOB_SID" <<'EOF' || fail "load summary: $OUT"
import json, sys
d = json.loads(sys.argv[1])
u = {x["name"]: x for x in d["users"]}
assert u["alice"]["target_sid"] == sys.argv[2] and u["alice"]["profile"] == "Users/someone", u["alice"]
assert u["bob"]["target_sid"] == sys.argv[3] and u["bob"]["profile"] == "Users/bob", u["bob"]
assert u["alice"]["created"] and u["bob"]["created"]
assert d["files"] > 100 and d["values"] > 30 and not d["problems"], d["problems"]
EOF
ln -sf "$WS_BIN" "$WORK/loadstate"
run 0 "$WORK/loadstate" "$WORK/store" "/target:$WORK/b2.img" "/mu:WS-PC01\\alice:$MACHINE_B_NAME\\someone"
contains "$OUT" "Users/someone"

mnt "$WORK/a.img" "$WORK/s" ro,streams_interface=xattr
for b in b1 b2; do
	mnt "$WORK/$b.img" "$WORK/t" ro,streams_interface=xattr
	check_files "$WORK/list.json" "$WORK/s" "$WORK/t" "$ALICE_SID=$MACHINE_B_SOMEONE_SID=Users/someone" \
		"$BOB_SID=$MACHINE_B_BOB_SID=Users/bob" || fail "$b: restored files"
	check_registry "$WORK/list.json" "$WORK/s" "$WORK/t" \
		"$ALICE_SID=Users/alice=Users/someone=$MACHINE_B_SOMEONE_SID" \
		"$BOB_SID=Users/bob=Users/bob=$MACHINE_B_BOB_SID" || fail "$b: registry values"
	check_profile_root "$WORK/t" Users/someone "$MACHINE_B_SOMEONE_SID" "$ALICE_SID" || fail "$b: someone's profile"
	check_profile_root "$WORK/t" Users/bob "$MACHINE_B_BOB_SID" "$BOB_SID" || fail "$b: bob's profile"
	hivexregedit --export "$WORK/t/Windows/System32/config/SOFTWARE" '\' >"$WORK/$b.software.after" ||
		fail "$b: SOFTWARE no longer opens"
	check_software "$WORK/$b.software.before" "$WORK/$b.software.after" \
		"$MACHINE_B_SOMEONE_SID=C:\\Users\\someone" "$MACHINE_B_BOB_SID=C:\\Users\\bob" || fail "$b: SOFTWARE"
	for f in Users/Public/Pictures/office-party.jpg Users/Public/Downloads/driver-setup.zip; do
		cmp "$WORK/s/$f" "$WORK/t/$f" || fail "$b: the Public file $f did not come back"
	done
	listing "$WORK/t" Users/someone Users/bob | public_share >"$WORK/$b.after" || fail "listing of $b"
	diff "$WORK/$b.before" "$WORK/$b.after" >"$WORK/diff" ||
		fail "$b: the restore changed other files: $(head -20 "$WORK/diff")"
	umnt "$WORK/t"
done
umnt "$WORK/s"

# Without the mapping, alice (a local account of A) has no account on B: she
# is not restored and is named, rc 14 in the loadstate spelling.
cp --sparse=always "$vol" "$WORK/b3.img"
WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" --machine B "$WORK/b3.img" >/dev/null 2>&1 ||
	fail "reinstall.sh --machine B"
run 14 "$WORK/loadstate" "$WORK/store" "/target:$WORK/b3.img"
contains "$ERR" 'WS-PC01\alice'
mnt "$WORK/b3.img" "$WORK/m" ro
[ -d "$WORK/m/Users/bob" ] && [ ! -e "$WORK/m/Users/alice" ] || fail "rc 14: bob should be restored and alice not"
umnt "$WORK/m"
exit 0
