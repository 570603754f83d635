#!/usr/bin/env bash
# Junctions and folder symlinks in a profile are stored (never followed) by
# all three store kinds and come back at restore, their targets moved to the
# new profile path when the user's profile is restored under another name.
# Checked through the ntfs-3g driver (getfattr system.ntfs_reparse_data),
# never winstate's own reader.  Bad input: a damaged or oversized reparse
# buffer in the store is an error for that item only; a destination that
# already exists (a junction, or a plain folder) is left alone and logged.
. "$(dirname "$0")/common.bash"

vol=$(fixture volume.img)
. "$(fixture fixture.env)"
command -v getfattr >/dev/null || fail "getfattr is not installed (attr; make deps installs it)"
[ -n "${MACHINE_B_SOMEONE_SID:-}" ] || fail "fixture.env has no MACHINE_B_* keys (make fixtures)"
NEW_ALICE=S-1-5-21-3777777777-3888888888-399999999-1001
DOCS=Users/alice/Documents

# The source: alice's own junctions next to the legacy ones the fixture has
# ("Documents/My Music" -> C:\Users\alice\Music, ...): one to another drive,
# one into her OneDrive, one to a folder no rule selects (its content must
# never reach the store).
cp --sparse=always "$vol" "$WORK/src.img"
mnt "$WORK/src.img" "$WORK/m" rw,streams_interface=xattr
mkdir -p "$WORK/m/Users/alice/OneDrive/Work" "$WORK/m/Secret" "$WORK/m/$DOCS/DriveD" \
	"$WORK/m/$DOCS/Work" "$WORK/m/$DOCS/Secret" || fail "cannot make the junction folders"
echo "not to be followed" >"$WORK/m/Secret/secret-payload.txt"
echo "work" >"$WORK/m/Users/alice/OneDrive/Work/plan.txt"
python3 - "$WORK/m/$DOCS" "$WS_TOP/tests/fixtures" <<'EOF' || fail "cannot make the junctions"
import os, sys
sys.path.insert(0, sys.argv[2])
import fxlib as L
d = sys.argv[1]
for name, target in (("DriveD", "D:\\Work"), ("Work", "C:\\Users\\alice\\OneDrive\\Work"),
                     ("Secret", "C:\\Secret")):
    os.setxattr(os.path.join(d, name), "system.ntfs_reparse_data", L.junction(target))
EOF
umnt "$WORK/m"

# target IMG PATH: "substitute|print" of the junction or symlink at PATH (through ntfs-3g).
target() {
	getfattr -h -e hex -n system.ntfs_reparse_data "$1/$2" 2>/dev/null | python3 -c '
import struct, sys
hexs = [l.split("=", 1)[1] for l in sys.stdin if l.startswith("system.ntfs_reparse_data=")]
if not hexs:
    print("none"); sys.exit(0)
b = bytes.fromhex(hexs[0].strip()[2:])
tag, n = struct.unpack_from("<IH", b)
assert n + 8 == len(b), "ReparseDataLength %d for %d bytes" % (n, len(b))
hdr = 20 if tag == 0xA000000C else 16
so, sl, po, pl = struct.unpack_from("<HHHH", b, 8)
name = lambda o, l: b[hdr + o:hdr + o + l].decode("utf-16-le")
print("%s|%s" % (name(so, sl), name(po, pl)))'
}
expect_target() { # MOUNT PATH WANTED
	local got
	got=$(target "$1" "$2")
	[ "$got" = "$3" ] || fail "$2: target \"$got\", expected \"$3\""
}

# 1. Capture into each store kind: the junctions are listed with their
# targets, nothing below them is stored, verify passes.
check_store() { # STORE [ARGS...]
	local store=$1; shift
	"$WS_BIN" list "$@" "$store" >"$WORK/list.txt" || fail "list $store"
	"$WS_BIN" list "$@" "$store" --json >"$WORK/list.json" || fail "list --json $store"
	contains "$(cat "$WORK/list.txt")" "junction  $DOCS/DriveD -> D:\\Work"
	contains "$(cat "$WORK/list.txt")" "junction  $DOCS/Work -> C:\\Users\\alice\\OneDrive\\Work"
	contains "$(cat "$WORK/list.txt")" "junction  $DOCS/My Music -> C:\\Users\\alice\\Music"
	contains "$(cat "$WORK/list.txt")" "symlink  Users/alice/Desktop/Projects -> C:\\Users\\alice\\Documents\\Projects"
	python3 - "$WORK/list.json" "$DOCS" <<'EOF' || fail "$store: $(head -c 300 "$WORK/list.json")"
import json, sys
d, docs = json.load(open(sys.argv[1])), sys.argv[2]
files = {f["path"]: f for f in d["files"]}
j = files[docs + "/Secret"]
assert j["kind"] == "junction" and j["target"] == "C:\\Secret" and j["streams"] == 0, j
assert j["attributes"] & 0x410 == 0x410, j
# Never followed: nothing below a junction, and the unselected target's file is not there.
for p in files:
    assert not p.startswith(docs + "/Secret/") and "secret-payload" not in p, p
    assert not p.startswith(docs + "/My Music/") and not p.startswith(docs + "/Work/"), p
# 2 for the folder entries; 3 since alice's Documents also hold files with EAs
# (and, in a directory store, long CJK names stored encoded: scan_long_names.sh).
assert d["version"] == 3, d["version"]
EOF
	run 0 "$WS_BIN" verify "$@" "$store"
	contains "$OUT" "0 damaged"
}
SEL=(--ui alice --ue '*' --efs skip)
run 0 "$WS_BIN" scan "$WORK/src.img" "$WORK/packed" "${SEL[@]}"
contains "$OUT" "junction(s) and folder link(s) stored as links"
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["junctions_stored"] >= 7, r
assert "links_not_followed" not in r' "$WORK/packed/report.json" || fail "report.json: $(head -c 600 "$WORK/packed/report.json")"
check_store "$WORK/packed"
run 0 "$WS_BIN" scan "$WORK/src.img" "$WORK/plain" --nocompress "${SEL[@]}"
check_store "$WORK/plain"
[ ! -e "$WORK/plain/USMT/File/C\$/$DOCS/Secret" ] && [ ! -e "$WORK/plain/USMT/File/C\$/$DOCS/My Music" ] ||
	fail "the directory store made files or folders for junctions"

# Hard-link store: Windows reinstalled in place, captured from Windows.old.
cp --sparse=always "$WORK/src.img" "$WORK/hl.img"
WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" "$WORK/hl.img" >"$WORK/reinstall.log" 2>&1 ||
	fail "reinstall.sh: $(tail -5 "$WORK/reinstall.log")"
run 0 "$WS_BIN" scan "$WORK/hl.img" MigStore --windir Windows.old/Windows --hardlink --nocompress "${SEL[@]}"
check_store MigStore --target "$WORK/hl.img"
mnt "$WORK/hl.img" "$WORK/m"
[ ! -e "$WORK/m/MigStore/USMT/File/C\$/$DOCS/Secret" ] && [ ! -L "$WORK/m/MigStore/USMT/File/C\$/$DOCS/Work" ] ||
	fail "the hard-link store made a name for a junction"
umnt "$WORK/m"

# 2. Restore, hard-link store, same profile path: targets kept as they were.
run 0 "$WS_BIN" load MigStore "$WORK/hl.img" --hardlink --mu "alice:$NEW_ALICE" --ui alice --ue '*' \
	--log "$WORK/hl.log"
contains "$OUT" "junction(s) and folder link(s) made"
mnt "$WORK/hl.img" "$WORK/m"
expect_target "$WORK/m" "$DOCS/My Music" '\??\C:\Users\alice\Music|C:\Users\alice\Music'
expect_target "$WORK/m" "$DOCS/DriveD" '\??\D:\Work|D:\Work'
expect_target "$WORK/m" "$DOCS/Secret" '\??\C:\Secret|C:\Secret'
umnt "$WORK/m"
contains "$(cat "$WORK/hl.log")" "its target D:\\Work is on another drive"

# 3. Restore, compressed store, onto another PC as another user (someone):
# targets in alice's old profile now point into Users/someone; the others kept.
cp --sparse=always "$vol" "$WORK/b.img"
WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" --machine B "$WORK/b.img" \
	>"$WORK/reinstall.log" 2>&1 || fail "reinstall.sh --machine B: $(tail -5 "$WORK/reinstall.log")"
run 0 "$WS_BIN" load "$WORK/packed" "$WORK/b.img" --mu "WS-PC01\\alice:$MACHINE_B_NAME\\someone" \
	--json --log "$WORK/b.log"
python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["junctions"] >= 7 and not d["problems"], d["junctions"]
assert d["users"][0]["profile"] == "Users/someone", d["users"]' "$OUT" || fail "load summary: $OUT"
S=Users/someone/Documents
mnt "$WORK/b.img" "$WORK/m" ro,streams_interface=xattr
expect_target "$WORK/m" "$S/My Music" '\??\C:\Users\someone\Music|C:\Users\someone\Music'
expect_target "$WORK/m" "$S/Work" '\??\C:\Users\someone\OneDrive\Work|C:\Users\someone\OneDrive\Work'
expect_target "$WORK/m" "$S/DriveD" '\??\D:\Work|D:\Work'
expect_target "$WORK/m" "$S/Secret" '\??\C:\Secret|C:\Secret'
expect_target "$WORK/m" Users/someone/Desktop/Projects \
	'\??\C:\Users\someone\Documents\Projects|C:\Users\someone\Documents\Projects'
attrib=$(getfattr -h -e hex -n system.ntfs_attrib "$WORK/m/$S/My Music" 2>/dev/null | sed -n 's/.*=0x//p')
[ $((0x${attrib:6:2}${attrib:4:2}${attrib:2:2}${attrib:0:2} & 0x416)) -eq $((0x416)) ] ||
	fail "My Music: attributes 0x$attrib (want directory, reparse point, hidden, system)"
times_src=$(getfattr -h -e hex -n system.ntfs_times "$WORK/m/$S/My Music" 2>/dev/null | sed -n 's/.*=0x//p')
acl=$(getfattr -h -e hex -n system.ntfs_acl "$WORK/m/$S/My Music" 2>/dev/null | sed -n 's/.*=0x//p')
[ ! -e "$WORK/m/Secret" ] || fail "the junction's target was restored"
umnt "$WORK/m"
mnt "$WORK/src.img" "$WORK/m" ro,streams_interface=xattr
[ "$times_src" = "$(getfattr -h -e hex -n system.ntfs_times "$WORK/m/$DOCS/My Music" 2>/dev/null | sed -n 's/.*=0x//p')" ] ||
	fail "My Music: times not restored"
umnt "$WORK/m"
python3 - "$acl" "$MACHINE_B_SOMEONE_SID" "$ALICE_SID" <<'EOF' || fail "My Music: security descriptor 0x$acl"
import sys
sd, new, old = bytes.fromhex(sys.argv[1]), sys.argv[2], sys.argv[3]
def sid(s):
    p = s.split("-"); subs = [int(x) for x in p[3:]]
    return bytes([1, len(subs)]) + int(p[2]).to_bytes(6, "big") + b"".join(x.to_bytes(4, "little") for x in subs)
assert sid(new) in sd and sid(old) not in sd, "SIDs not mapped"
EOF
contains "$(cat "$WORK/b.log")" "pointed into the old profile C:\\Users\\alice: now C:\\Users\\someone\\Music"

# 4. Destinations that exist: the same store again (junctions already
# there), and a plain folder where a junction would go: both left alone, logged.
mnt "$WORK/b.img" "$WORK/m" rw,streams_interface=xattr
rm "$WORK/m/$S/Secret" || fail "cannot remove the restored junction through ntfs-3g"
mkdir "$WORK/m/$S/Secret" && echo mine >"$WORK/m/$S/Secret/mine.txt"
umnt "$WORK/m"
run 0 "$WS_BIN" load "$WORK/packed" "$WORK/b.img" --mu "WS-PC01\\alice:$MACHINE_B_NAME\\someone" \
	--log "$WORK/b2.log"
contains "$(cat "$WORK/b2.log")" "already has a junction at $S/My Music; left as it is"
contains "$(cat "$WORK/b2.log")" "already has a folder at $S/Secret; left as it is"
mnt "$WORK/b.img" "$WORK/m" ro,streams_interface=xattr
[ "$(target "$WORK/m" "$S/Secret")" = none ] || fail "the plain folder became a junction"
[ "$(cat "$WORK/m/$S/Secret/mine.txt")" = mine ] || fail "the plain folder's file changed"
expect_target "$WORK/m" "$S/My Music" '\??\C:\Users\someone\Music|C:\Users\someone\Music'
umnt "$WORK/m"

# 5. Damaged reparse data in a store (checksum recomputed, so only the
# buffer is wrong): a length field that lies, and a buffer over 16 KiB.
# Each is an error for that junction only; the rest is restored; no crash.
forge() { # STORE NAME(junction below Documents) MODE
	python3 - "$1/catalog" "$2" "$3" "$WS_TOP/tests/fixtures" <<'EOF'
import hashlib, struct, sys
sys.path.insert(0, sys.argv[4])
import fxlib as L
path, name, mode = sys.argv[1:4]
b = bytearray(open(path, "rb").read()[:-32])
old = L.junction({"Work": "C:\\Users\\alice\\OneDrive\\Work", "DriveD": "D:\\Work"}[name])
rec = struct.pack("<I", len(old)) + old
i = b.index(rec)
if mode == "lying":
    new = bytearray(old)
    struct.pack_into("<H", new, 10, 0x7000)     # substitute name far past the end
    b[i + 4:i + 4 + len(old)] = new
else:
    new = old[:4] + struct.pack("<H", 17000 - 8) + old[6:] + bytes(17000 - len(old))
    b[i:i + len(rec)] = struct.pack("<I", len(new)) + new
    # The FILE section's length grows with it.
    pos = 16
    while True:
        tag, n = struct.unpack_from("<IQ", b, pos)
        if tag == int.from_bytes(b"FILE", "little"):
            struct.pack_into("<Q", b, pos + 4, n + len(new) - len(old))
            break
        pos += 12 + n
open(path, "wb").write(bytes(b) + hashlib.blake2b(bytes(b), digest_size=32).digest())
EOF
}
cp -r "$WORK/plain" "$WORK/bad"
forge "$WORK/bad" Work lying || fail "cannot forge a lying junction"
forge "$WORK/bad" DriveD long || fail "cannot forge an oversized junction"
run 0 "$WS_BIN" verify "$WORK/bad"
run 0 "$WS_BIN" list "$WORK/bad"
contains "$OUT" "$DOCS/Work -> (damaged link data: a target name lies outside the reparse buffer)"
contains "$OUT" "$DOCS/DriveD -> (damaged link data: the reparse buffer is 17000 bytes"
cp --sparse=always "$vol" "$WORK/b3.img"
WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" --machine B "$WORK/b3.img" \
	>"$WORK/reinstall.log" 2>&1 || fail "reinstall.sh --machine B: $(tail -5 "$WORK/reinstall.log")"
"$WS_BIN" load "$WORK/bad" "$WORK/b3.img" --mu "WS-PC01\\alice:$MACHINE_B_NAME\\someone" --json \
	>"$WORK/out" 2>"$WORK/err"
rc=$?
[ $rc -eq 1 ] || fail "load of damaged junctions exited $rc, expected 1 (partial): $(cat "$WORK/err")"
lacks "$(cat "$WORK/err")" "Sanitizer"
python3 - "$WORK/out" <<'EOF' || fail "load of damaged junctions (rc $rc): $(head -c 2000 "$WORK/out") $(cat "$WORK/err")"
import json, sys
d = json.load(open(sys.argv[1]))
probs = "\n".join(d["problems"])
assert "Documents/Work: not restored: its junction data in the store is damaged: a target name lies outside" in probs, probs
assert "Documents/DriveD: not restored: its junction data in the store is damaged: the reparse buffer is 17000 bytes, more than the 16384 NTFS keeps" in probs, probs
assert len(d["problems"]) == 2, probs
assert d["files"] > 50 and d["junctions"] >= 5, d
EOF
mnt "$WORK/b3.img" "$WORK/m" ro,streams_interface=xattr
[ ! -e "$WORK/m/$S/Work" ] && [ ! -e "$WORK/m/$S/DriveD" ] || fail "a damaged junction was made"
expect_target "$WORK/m" "$S/My Music" '\??\C:\Users\someone\Music|C:\Users\someone\Music'
umnt "$WORK/m"
echo "ok"
