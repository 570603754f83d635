#!/usr/bin/env bash
# Capture → "Windows reinstalled" → restore from a compressed store, checked
# through the ntfs-3g driver and hivex's tools (never winstate's own reader):
# every restored file with its content, security descriptor (SIDs mapped by
# --mu), named streams, times and attributes; registry values in the new
# hives; new profiles as Windows makes them; the rest of the disk untouched;
# a second restore keeps both copies; the loadstate spelling and its codes.
. "$(dirname "$0")/common.bash"

vol=$(fixture volume.img)
. "$(fixture fixture.env)"
command -v hivexget >/dev/null || fail "hivexget (libhivex-bin) is not installed (make deps installs it)"

NEW_ALICE=S-1-5-21-3777777777-3888888888-399999999-1001
NEW_BOB=S-1-5-21-3777777777-3888888888-399999999-1002
cp --sparse=always "$vol" "$WORK/src.img"
run 0 "$WS_BIN" scan "$WORK/src.img" "$WORK/store" --efs skip
cp --sparse=always "$WORK/src.img" "$WORK/tgt.img"
WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" "$WORK/tgt.img" >"$WORK/reinstall.log" 2>&1 \
	|| fail "reinstall.sh: $(tail -5 "$WORK/reinstall.log")"

# Every file (not junction) with its hash, relative to the mount.
listing() { python3 - "$1" <<'PY'
import hashlib, os, sys
root = sys.argv[1]
out = []
for d, dirs, files in os.walk(root):
    rel = "./" + os.path.relpath(d, root) if d != root else "."
    files += [x for x in dirs if os.path.islink(os.path.join(d, x))]
    dirs[:] = [x for x in dirs if not os.path.islink(os.path.join(d, x))]
    out.append(rel + "/")
    for f in files:
        p = os.path.join(d, f)
        try:
            h = "link" if os.path.islink(p) else hashlib.sha256(open(p, "rb").read()).hexdigest()[:16]
        except OSError:
            h = "unreadable"
        out.append(f"{rel}/{f} {h}")
print("\n".join(sorted(out)))
PY
}
sidhex() { python3 -c '
import sys
p = sys.argv[1].split("-")
subs = [int(x) for x in p[3:]]
b = bytes([int(p[1]), len(subs)]) + int(p[2]).to_bytes(6, "big") + b"".join(s.to_bytes(4, "little") for s in subs)
print(b.hex())' "$1"; }

mnt "$WORK/tgt.img" "$WORK/before" ro,streams_interface=xattr
listing "$WORK/before" >"$WORK/before.txt"
umnt "$WORK/before"

run 0 "$WS_BIN" load "$WORK/store" "$WORK/tgt.img" --mu "alice:$NEW_ALICE" --mu "WS-PC01\\bob:$NEW_BOB" \
	--ue olduser --ue erin --ue 'real*' --json --log "$WORK/load.log"
python3 - "$OUT" <<'EOF' || fail "load summary: $OUT"
import json, sys
d = json.loads(sys.argv[1])
users = {u["name"]: u for u in d["users"]}
assert users["alice"]["profile"] == "Users/alice" and users["alice"]["created"], users["alice"]
assert users["carol"]["target_sid"] == users["carol"]["store_sid"], users["carol"]
assert users["olduser"]["target_sid"] is None and "not selected" in users["olduser"]["skipped"]
assert d["files"] > 200 and d["values"] > 40 and not d["problems"], d
EOF

"$WS_BIN" list "$WORK/store" --json >"$WORK/list.json" || fail "list"
mnt "$WORK/tgt.img" "$WORK/t" ro,streams_interface=xattr
mnt "$WORK/src.img" "$WORK/s" ro,streams_interface=xattr

# 1. Every file of a restored user is there with the captured content.
python3 - "$WORK/list.json" "$WORK/s" "$WORK/t" "$ALICE_SID" "$BOB_SID" "$CAROL_SID" "$DAVE_SID" <<'EOF' || fail "file contents"
import hashlib, json, os, sys
store, src, tgt = sys.argv[1], sys.argv[2], sys.argv[3]
restored = set(sys.argv[4:])
d = json.load(open(store))
# Documents kept elsewhere (bob's are in OneDrive) land in the new Documents folder.
moved = {}
for u in d["users"]:
    extra = u.get("extra", u)
    personal = extra.get("folder:Personal", "")
    if personal[1:3] == ":\\":
        old = personal[3:].replace("\\", "/")
        new = u["profile"] + "/Documents"
        if old.lower() != new.lower():
            moved[old + "/"] = new + "/"
checked = 0
for f in d["files"]:
    if f["owner"] not in restored or f["attributes"] & 0x10:
        continue
    if f["attributes"] & 0x400:  # reparse points: ntfs-3g shows them as links; compared below
        continue
    a = open(os.path.join(src, f["path"]), "rb").read()
    dest = f["path"]
    for old, new in moved.items():
        if dest.lower().startswith(old.lower()):
            dest = new + dest[len(old):]
    b = open(os.path.join(tgt, dest), "rb").read()
    assert a == b, f["path"]
    checked += 1
assert checked > 200, checked
print("checked", checked)
EOF

# 2. Security descriptors: alice's SID is mapped to the new one everywhere.
acl=$(getfattr --absolute-names -h -e hex -n system.ntfs_acl "$WORK/t/$READONLY_FILE" | sed -n 's/^system.ntfs_acl=0x//p')
contains "$acl" "$(sidhex "$NEW_ALICE")"
lacks "$acl" "$(sidhex "$ALICE_SID")"
srcacl=$(getfattr --absolute-names -h -e hex -n system.ntfs_acl "$WORK/s/$READONLY_FILE" | sed -n 's/^system.ntfs_acl=0x//p')
[ "${#acl}" -eq "${#srcacl}" ] || fail "the mapped descriptor changed length: ${#srcacl} -> ${#acl}"
# The new profile root: owner the user, protected DACL (SY, BA, user).
root=$(getfattr --absolute-names -h -e hex -n system.ntfs_acl "$WORK/t/Users/carol" | sed -n 's/^system.ntfs_acl=0x//p')
contains "$root" "$(sidhex "$CAROL_SID")"
contains "$root" "$(sidhex S-1-5-32-544)"
[ "${root:4:4}" = "0494" ] || fail "profile root control is 0x${root:6:2}${root:4:2}, want 0x9404"

# 3. Named streams, times and attributes are the captured ones.
for f in "$ZONE_FILE" "$READONLY_FILE" "$HIDDEN_FILE"; do
	for a in system.ntfs_times system.ntfs_attrib; do
		x=$(getfattr --absolute-names -h -e hex -n $a "$WORK/s/$f" | tail -n +2)
		y=$(getfattr --absolute-names -h -e hex -n $a "$WORK/t/$f" | tail -n +2)
		[ "$x" = "$y" ] || fail "$f: $a differs: $x vs $y"
	done
done
x=$(getfattr --absolute-names -h -e hex -n user.Zone.Identifier "$WORK/s/$ZONE_FILE" | tail -n +2)
y=$(getfattr --absolute-names -h -e hex -n user.Zone.Identifier "$WORK/t/$ZONE_FILE" | tail -n +2)
[ -n "$x" ] && [ "$x" = "$y" ] || fail "Zone.Identifier stream: '$x' vs '$y'"
# A hydrated OneDrive file comes back as a plain file with its data: its cloud
# reparse data belongs to the old Windows' OneDrive registration (restore.md).
x=$(getfattr --absolute-names -h -e hex -n system.ntfs_reparse_data "$WORK/s/$ONEDRIVE_HYDRATED" | tail -n +2)
[ -n "$x" ] || fail "the fixture's hydrated OneDrive file has no reparse data"
getfattr --absolute-names -h -n system.ntfs_reparse_data "$WORK/t/$ONEDRIVE_HYDRATED" >/dev/null 2>&1 &&
	fail "the hydrated OneDrive file was restored with its cloud reparse data"
[ "$(sha256sum <"$WORK/t/$ONEDRIVE_HYDRATED" | cut -d' ' -f1)" = "$ONEDRIVE_HYDRATED_SHA256" ] ||
	fail "the hydrated OneDrive file's data differs"
# Hard links among captured files stay hard links.
[ "$(stat -c %i "$WORK/t/$HARDLINK_A")" = "$(stat -c %i "$WORK/t/$HARDLINK_B")" ] || fail "hard link pair split"

# 4. Registry: values in the user's new NTUSER.DAT, the profile in ProfileList.
want=$(hivexget "$WORK/s/Users/alice/NTUSER.DAT" 'Control Panel\Desktop' Wallpaper)
got=$(hivexget "$WORK/t/Users/alice/NTUSER.DAT" 'Control Panel\Desktop' Wallpaper) || fail "Wallpaper missing"
[ -n "$want" ] && [ "$want" = "$got" ] || fail "Wallpaper: '$want' vs '$got'"
got=$(hivexget "$WORK/t/Windows/System32/config/SOFTWARE" \
	"Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\$NEW_ALICE" ProfileImagePath) || fail "no ProfileList entry"
[ "$got" = 'C:\Users\alice' ] || fail "ProfileImagePath: $got"
hivexregedit --export "$WORK/t/Windows/System32/config/SOFTWARE" '\' >/dev/null || fail "SOFTWARE no longer opens"
# The Default profile's own settings came along (NTUSER.DAT is a copy of Default's).
hivexregedit --export "$WORK/t/Users/Default/NTUSER.DAT" '\' | head -3 >/dev/null
[ ! -e "$WORK/t/Users/olduser" ] || fail "olduser was not selected but has a profile"

# 5. Nothing else changed: the new Windows' files, the Default profile, Windows.old.
# Public gains only the system's share of the store (what people put there):
# what the new Windows had in it stays as it was.
listing "$WORK/t" | grep -v -E '^\./Users/(alice|bob|carol|DaveMiller)(/| )' |
	grep -v -E '^\./Windows/System32/config/SOFTWARE ' >"$WORK/after-all.txt"
for f in Users/Public/Pictures/office-party.jpg Users/Public/Downloads/driver-setup.zip; do
	cmp "$WORK/s/$f" "$WORK/t/$f" || fail "the Public file $f did not come back"
done
grep -v -E '^\./Users/Public/(Pictures/office-party\.jpg|Downloads/driver-setup\.zip|Documents/shared-readme\(1\)\.txt|.*/desktop\(1\)\.ini|Desktop/Microsoft Edge\(1\)\.lnk) ' \
	"$WORK/after-all.txt" >"$WORK/after.txt"
grep -v -E '^\./Windows/System32/config/SOFTWARE ' "$WORK/before.txt" >"$WORK/before2.txt"
diff "$WORK/before2.txt" "$WORK/after.txt" >"$WORK/diff.txt" || fail "restore touched other files: $(head -20 "$WORK/diff.txt")"
umnt "$WORK/t"
umnt "$WORK/s"

# 6. Restoring again keeps both: name(1).ext next to the first copy.
run 0 "$WS_BIN" load "$WORK/store" "$WORK/tgt.img" --mu "alice:$NEW_ALICE" --mu "WS-PC01\\bob:$NEW_BOB" \
	--ue olduser --ue erin --ue 'real*'
contains "$OUT" "renamed to keep both"
mnt "$WORK/tgt.img" "$WORK/t" ro,streams_interface=xattr
base=${READONLY_FILE%.pdf}
cmp "$WORK/t/$READONLY_FILE" "$WORK/t/$base(1).pdf" || fail "the second copy differs"
[ ! -e "$WORK/t/$base(2).pdf" ] || fail "a third copy"
umnt "$WORK/t"

# 7. The loadstate spelling: /target is needed; a local account missing is rc 14, named.
ln -sf "$WS_BIN" "$WORK/loadstate"
cp --sparse=always "$WORK/src.img" "$WORK/tgt2.img"
WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" "$WORK/tgt2.img" >/dev/null 2>&1 || fail reinstall
run 11 "$WORK/loadstate" "$WORK/store"
contains "$ERR" "/target"
run 14 "$WORK/loadstate" "$WORK/store" "/target:$WORK/tgt2.img" /ue:olduser /ue:erin '/ue:real*'
contains "$ERR" 'WS-PC01\alice'
contains "$ERR" "--mu"
contains "$OUT" "carol"
# /lac with a password is refused before any write (load_lac.sh tests /lac itself).
run 71 "$WORK/loadstate" "$WORK/store" "/target:$WORK/tgt2.img" /lac:Pa55word /ue:olduser
contains "$ERR" "SAM"
# A mapping to an account the offline target cannot know is refused before any write.
run 2 "$WS_BIN" load "$WORK/store" "$WORK/tgt2.img" --md CONTOSO:FABRIKAM
contains "$ERR" 'FABRIKAM\carol'
contains "$ERR" "SID"
run 11 "$WORK/loadstate" "$WORK/store" "/target:$WORK/tgt2.img" '/mu:bob:NOBODY\ghost'
contains "$ERR" "give its SID"
run 2 "$WS_BIN" load "$WORK/store" "$WORK/tgt2.img" --mu 'bob:S-1-5-21-x'
contains "$ERR" "not a valid SID"
# --mu to a SID: carol's state goes to that account (files, SDs, profile).
run 0 "$WS_BIN" load "$WORK/store" "$WORK/tgt2.img" --mu "CONTOSO\\carol:$NEW_BOB" --ui carol --ue '*' --json
python3 -c '
import json, sys
d = json.loads(sys.argv[1])
c = [u for u in d["users"] if u["name"] == "carol"][0]
assert c["target_sid"] == sys.argv[2] and c["files"] > 10, c
' "$OUT" "$NEW_BOB" || fail "--mu CONTOSO\\carol: $OUT"
exit 0
