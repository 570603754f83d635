#!/usr/bin/env bash
# /lac and /lae: a local account of the source that the reinstalled Windows
# lacks.  Without /lac it is not restored (rc 14, named); /lac:password is
# refused before any write; /lac creates it in the target's SAM (disabled,
# empty password), /lac /lae enabled, and the user's profile is made for the
# new SID with the files restored.  Checked through chntpw (the SAM), hivexget
# (ProfileList) and the ntfs-3g driver (files, folder ACL), never winstate's
# own readers.
. "$(dirname "$0")/common.bash"

vol=$(fixture volume.img)
. "$(fixture fixture.env)"
command -v hivexget >/dev/null || fail "hivexget (libhivex-bin) is not installed (make deps installs it)"
command -v chntpw >/dev/null || fail "chntpw (Debian package chntpw) is not installed (make deps installs it)"

sidhex() { python3 -c '
import sys
p = sys.argv[1].split("-")
subs = [int(x) for x in p[3:]]
b = bytes([int(p[1]), len(subs)]) + int(p[2]).to_bytes(6, "big") + b"".join(s.to_bytes(4, "little") for s in subs)
print(b.hex())' "$1"; }

cp --sparse=always "$vol" "$WORK/src.img"
run 0 "$WS_BIN" scan "$WORK/src.img" "$WORK/store" --efs skip
cp --sparse=always "$WORK/src.img" "$WORK/tgt.img"
WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" "$WORK/tgt.img" >"$WORK/reinstall.log" 2>&1 \
	|| fail "reinstall.sh: $(tail -5 "$WORK/reinstall.log")"
cp --sparse=always "$WORK/tgt.img" "$WORK/tgt-lae.img"
cp --sparse=always "$WORK/tgt.img" "$WORK/tgt-bad.img"
ln -sf "$WS_BIN" "$WORK/loadstate"
SEL=("/ue:*" "/ui:$ERIN_NAME")

# The target's SAM and SOFTWARE, copied out through the driver.
hives_of() { # IMAGE DIR
	mnt "$1" "$WORK/h" ro
	mkdir -p "$2"
	cp "$WORK/h/Windows/System32/config/SAM" "$WORK/h/Windows/System32/config/SOFTWARE" "$2/" \
		|| fail "no SAM/SOFTWARE in $1"
	umnt "$WORK/h"
}
account_line() { chntpw -l "$1" </dev/null 2>/dev/null | grep -i "| $2 " ; }

hives_of "$WORK/tgt.img" "$WORK/before"
[ -z "$(account_line "$WORK/before/SAM" "$ERIN_NAME")" ] || fail "the reinstalled target already has $ERIN_NAME"

# 1. Without /lac: rc 14, the account named, not restored.
run 14 "$WORK/loadstate" "$WORK/store" "/target:$WORK/tgt.img" "${SEL[@]}"
contains "$ERR" "\\$ERIN_NAME"

# 2. /lac:password: refused (rc 71), nothing written.
sum=$(sha256sum <"$WORK/tgt.img")
run 71 "$WORK/loadstate" "$WORK/store" "/target:$WORK/tgt.img" "${SEL[@]}" /lac:Pa55word
contains "$ERR" "password"
contains "$ERR" "nothing was written"
[ "$(sha256sum <"$WORK/tgt.img")" = "$sum" ] || fail "/lac:password changed the target"

# 3. /lac: the account is created, disabled; its profile and files follow.
run 0 "$WORK/loadstate" "$WORK/store" "/target:$WORK/tgt.img" "${SEL[@]}" /lac "/l:$WORK/lac.log"
hives_of "$WORK/tgt.img" "$WORK/after"
line=$(account_line "$WORK/after/SAM" "$ERIN_NAME")
[ -n "$line" ] || fail "chntpw -l does not list $ERIN_NAME: $(chntpw -l "$WORK/after/SAM" </dev/null 2>&1)"
contains "$line" "dis/lock"
rid=$((16#$(sed 's/^| *\([0-9a-f]*\) .*/\1/' <<<"$line")))
machine=${ERIN_SID%-*}
new_sid="$machine-$rid"
[ "$rid" -ge 1000 ] || fail "RID $rid"
contains "$(cat "$WORK/lac.log")" "$new_sid"
user_view=$(printf 'q\n' | chntpw -u "0x$(printf %x "$rid")" "$WORK/after/SAM" 2>&1)
contains "$user_view" "No NT MD4 hash found"
contains "$user_view" "[X] Disabled"
# ProfileList knows the new SID, pointing at the new profile.
pip=$(hivexget "$WORK/after/SOFTWARE" "Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\$new_sid" ProfileImagePath) \
	|| fail "ProfileList has no $new_sid"
contains "$pip" "Users\\$ERIN_NAME"
mnt "$WORK/tgt.img" "$WORK/t" ro,streams_interface=xattr
mnt "$WORK/src.img" "$WORK/s" ro,streams_interface=xattr
acl=$(getfattr --absolute-names -h -e hex -n system.ntfs_acl "$WORK/t/Users/$ERIN_NAME" | sed -n 's/^system.ntfs_acl=0x//p')
contains "$acl" "$(sidhex "$new_sid")"
lacks "$acl" "$(sidhex "$ERIN_SID")"
[ -f "$WORK/t/Users/$ERIN_NAME/NTUSER.DAT" ] || fail "no NTUSER.DAT in the new profile"
"$WS_BIN" list "$WORK/store" --json >"$WORK/list.json" || fail list
python3 - "$WORK/list.json" "$WORK/s" "$WORK/t" "$ERIN_SID" <<'EOF' || fail "erin's files"
import json, os, sys
d = json.load(open(sys.argv[1]))
src, tgt, sid = sys.argv[2], sys.argv[3], sys.argv[4]
n = 0
for f in d["files"]:
    if f["owner"] != sid or f["attributes"] & 0x410 or f["path"].lower().endswith(("ntuser.dat", "usrclass.dat")):
        continue
    assert open(os.path.join(src, f["path"]), "rb").read() == open(os.path.join(tgt, f["path"]), "rb").read(), f["path"]
    n += 1
assert n >= 1, n
print("checked", n)
EOF
umnt "$WORK/s"
umnt "$WORK/t"

# A second run finds the account (no second one is made).
run 0 "$WORK/loadstate" "$WORK/store" "/target:$WORK/tgt.img" "${SEL[@]}" /lac
hives_of "$WORK/tgt.img" "$WORK/again"
[ "$(account_line "$WORK/again/SAM" "$ERIN_NAME" | wc -l)" -eq 1 ] || fail "the account was made twice"

# 4. /lac /lae: the account is enabled.
run 0 "$WORK/loadstate" "$WORK/store" "/target:$WORK/tgt-lae.img" "${SEL[@]}" /lac /lae
hives_of "$WORK/tgt-lae.img" "$WORK/lae"
line=$(account_line "$WORK/lae/SAM" "$ERIN_NAME")
[ -n "$line" ] || fail "/lae: chntpw -l does not list $ERIN_NAME"
lacks "$line" "dis/lock"

# 5. A damaged SAM (no SAM\Domains\Account): /lac is refused, nothing written.
mnt "$WORK/tgt-bad.img" "$WORK/b" rw
printf 'cd \\SAM\\Domains\\Account\ndel\ncommit\n' | hivexsh -w "$WORK/b/Windows/System32/config/SAM" \
	|| fail "hivexsh could not damage the SAM"
umnt "$WORK/b"
sum=$(sha256sum <"$WORK/tgt-bad.img")
run 71 "$WORK/loadstate" "$WORK/store" "/target:$WORK/tgt-bad.img" "${SEL[@]}" /lac
contains "$ERR" "$ERIN_NAME"
contains "$ERR" "damaged"
[ "$(sha256sum <"$WORK/tgt-bad.img")" = "$sum" ] || fail "/lac on a damaged SAM changed the target"

# 6. winstate load spells them --lac / --lae; --lae alone is a usage error.
run 2 "$WS_BIN" load "$WORK/store" "$WORK/tgt-lae.img" --lae
echo "lac: $ERIN_NAME created as $new_sid (disabled; enabled with /lae), profile and files restored"
