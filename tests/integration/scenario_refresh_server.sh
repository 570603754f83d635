#!/usr/bin/env bash
# Scenario 2, PC refresh with the store on a server: every user of the PC is
# captured into a compressed store on a second disk standing for the server
# (an ext4 image, loop-mounted; an NTFS image through ntfs-3g where loop
# devices are not available), the server is unmounted, Windows is
# reinstalled on the PC (reinstall.sh: the old tree goes to Windows.old, new
# hives with no accounts), the server comes back read-only, and alice, bob,
# carol (domain) and DaveMiller (Entra ID) are restored; olduser and erin are
# left out.  alice and bob get their new accounts' SIDs with --mu; carol and
# Dave keep theirs.
#
# Checked through the ntfs-3g driver and hivex's tools (restore_checks.bash):
# every captured file of the four with the same content, named streams,
# reparse data, times, attributes (LZNT1 compression included) and
# descriptor (SIDs mapped); registry values in the new NTUSER.DAT and
# UsrClass.dat; the four ProfileList entries and nothing else in SOFTWARE;
# nothing else on the PC changed, Windows.old included; the store on the
# server left as it was.
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/restore_checks.bash"

vol=$(fixture volume.img)
. "$(fixture fixture.env)"
for t in hivexregedit hivexml getfattr; do
	command -v $t >/dev/null || fail "$t is not installed (libhivex-bin, attr; make deps installs them)"
done
NEW_ALICE=S-1-5-21-3777777777-3888888888-399999999-1001
NEW_BOB=S-1-5-21-3777777777-3888888888-399999999-1002

# The server: its own disk image with its own filesystem.
truncate -s 1G "$WORK/server.img"
server_mount() { # [ro]
	mkdir -p "$WORK/server"
	if [ "$SERVER_FS" = ext4 ]; then
		mount -o "loop${1:+,ro}" "$WORK/server.img" "$WORK/server"
	else
		mnt "$WORK/server.img" "$WORK/server" "${1:-rw}"
	fi
}
server_umount() { if [ "$SERVER_FS" = ext4 ]; then umount "$WORK/server"; else umnt "$WORK/server"; fi; }
SERVER_FS=ext4
mkfs.ext4 -q -F -L MIGSERVER "$WORK/server.img" >/dev/null 2>&1 || fail "mkfs.ext4 of the server image"
if ! server_mount 2>"$WORK/loop.err"; then
	SERVER_FS=ntfs # no loop devices here: an NTFS server disk through FUSE
	mkntfs -F -Q -q -L MIGSERVER "$WORK/server.img" >/dev/null 2>&1 || fail "mkntfs of the server image"
	server_mount
fi
STORE="$WORK/server/stores/$COMPUTER_NAME"
mkdir -p "$WORK/server/stores"

# Capture every user of the PC onto the server, Classes values included.
classes_rules "$WORK/classes.xml"
cp --sparse=always "$vol" "$WORK/pc.img"
cp --sparse=always "$vol" "$WORK/ref.img" # the PC as captured, for comparing
run 0 "$WS_BIN" scan "$WORK/pc.img" "$STORE" --efs skip \
	--rules "$WS_TOP/rules/xml/winstate-default.xml" --rules "$WORK/classes.xml"
"$WS_BIN" list "$STORE" --json >"$WORK/list.json" || fail "winstate list"
(cd "$WORK/server" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$WORK/store.sums"
server_umount

# Windows reinstalled on the PC.
WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" "$WORK/pc.img" >"$WORK/reinstall.log" 2>&1 ||
	fail "reinstall.sh: $(tail -5 "$WORK/reinstall.log")"
RESTORED=(Users/alice Users/bob Users/carol Users/DaveMiller)
mnt "$WORK/pc.img" "$WORK/m" ro,streams_interface=xattr
[ -d "$WORK/m/Windows.old/Users/alice" ] && [ ! -e "$WORK/m/Users/alice" ] || fail "reinstall.sh did not reinstall"
listing "$WORK/m" "${RESTORED[@]}" >"$WORK/before" || fail "listing"
hivexregedit --export "$WORK/m/Windows/System32/config/SOFTWARE" '\' >"$WORK/software.before" || fail "SOFTWARE"
umnt "$WORK/m"

# The server is back, read-only: the restore only reads the store.
server_mount ro
run 0 "$WS_BIN" load "$STORE" "$WORK/pc.img" --mu "alice:$NEW_ALICE" --mu "WS-PC01\\bob:$NEW_BOB" \
	--ue olduser --ue erin --ue 'real*' --json --log "$WORK/load.log"
python3 - "$OUT" "$CAROL_SID" "$DAVE_SID" <<'EOF' || fail "load summary: $OUT"
import json, sys
d = json.loads(sys.argv[1])
u = {x["name"]: x for x in d["users"]}
for n in ("alice", "bob", "carol", "DaveMiller"):
    assert u[n]["created"] and u[n]["profile"] == "Users/" + n and u[n]["files"] > 10, u[n]
assert u["carol"]["target_sid"] == sys.argv[2] and u["DaveMiller"]["target_sid"] == sys.argv[3]
for n in ("olduser", "erin"):
    assert u[n]["target_sid"] is None and "not selected" in u[n]["skipped"], u[n]
assert d["files"] > 200 and d["values"] > 60 and not d["problems"], d["problems"]
EOF
(cd "$WORK/server" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | diff "$WORK/store.sums" - >/dev/null ||
	fail "the store on the server changed"
server_umount

mnt "$WORK/ref.img" "$WORK/s" ro,streams_interface=xattr
mnt "$WORK/pc.img" "$WORK/t" ro,streams_interface=xattr
check_files "$WORK/list.json" "$WORK/s" "$WORK/t" "$ALICE_SID=$NEW_ALICE=Users/alice" "$BOB_SID=$NEW_BOB=Users/bob" \
	"$CAROL_SID=$CAROL_SID=Users/carol" "$DAVE_SID=$DAVE_SID=Users/DaveMiller" || fail "restored files"
check_registry "$WORK/list.json" "$WORK/s" "$WORK/t" "$ALICE_SID=Users/alice=Users/alice=$NEW_ALICE" \
	"$BOB_SID=Users/bob=Users/bob=$NEW_BOB" "$CAROL_SID=Users/carol=Users/carol=$CAROL_SID" \
	"$DAVE_SID=Users/DaveMiller=Users/DaveMiller=$DAVE_SID" || fail "registry values"
check_profile_root "$WORK/t" Users/alice "$NEW_ALICE" "$ALICE_SID" || fail "alice's profile"
check_profile_root "$WORK/t" Users/carol "$CAROL_SID" "$CAROL_SID" || fail "carol's profile"
hivexregedit --export "$WORK/t/Windows/System32/config/SOFTWARE" '\' >"$WORK/software.after" ||
	fail "SOFTWARE no longer opens"
check_software "$WORK/software.before" "$WORK/software.after" "$NEW_ALICE=C:\\Users\\alice" \
	"$NEW_BOB=C:\\Users\\bob" "$CAROL_SID=C:\\Users\\carol" "$DAVE_SID=C:\\Users\\DaveMiller" || fail "SOFTWARE"
[ ! -e "$WORK/t/Users/olduser" ] && [ ! -e "$WORK/t/Users/erin" ] || fail "an unselected user has a profile"
# Public gains the system's share of the store (the fixture's own files there
# come back beside the new Windows' as name(1)); nothing else in it changes.
public_share() { grep -v -E '^Users/Public/(Pictures/office-party\.jpg|Downloads/driver-setup\.zip|Documents/shared-readme\(1\)\.txt|[A-Za-z]+/desktop\(1\)\.ini|Desktop/Microsoft Edge\(1\)\.lnk) '; }
for f in Users/Public/Pictures/office-party.jpg Users/Public/Downloads/driver-setup.zip; do
	cmp "$WORK/s/$f" "$WORK/t/$f" || fail "the Public file $f did not come back"
done
listing "$WORK/t" "${RESTORED[@]}" >"$WORK/after-all" || fail "listing"
public_share <"$WORK/after-all" >"$WORK/after"
diff "$WORK/before" "$WORK/after" >"$WORK/diff" || fail "the restore changed other files: $(head -20 "$WORK/diff")"
umnt "$WORK/t"
umnt "$WORK/s"
exit 0
