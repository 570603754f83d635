#!/usr/bin/env bash
# Who a profile is, when the evidence is thin, and what the new profile is
# called.  A copy of the sample disk is given the oddities real machines have
# (edited with the ntfs-3g driver and hivex's tools, never winstate code):
#   - bob and olduser are no longer in SAM (accounts deleted, profiles kept),
#     and the SECURITY hive lost PolAcDmS: they are still local accounts (the
#     machine SID from SAM's Account record says so) and answer to WS-PC01\name;
#   - bob's name is only in his hive (Explorer's Logon User Name), with a
#     display name in Office's UserInfo; olduser's only in LogonUI's last
#     logged-on SAM user (with his SID);
#   - carol's account was renamed in the domain (her session says cclark), her
#     folder is still C:\Users\carol;
#   - the real hives (REALn, when WS_SHARED has them) lose their SAM entries:
#     their Shell Folders, Office user name and Microsoft account (admin,
#     vibranium, lcdivt10@outlook.com) are not account names.
# Then USMT's selection rules on it, and a restore onto the reinstalled
# Windows whose new profiles are named after the source folders, with
# Windows' suffixes where a folder is taken — checked through the ntfs-3g
# driver and hivexget.
. "$(dirname "$0")/common.bash"

vol=$(fixture volume.img)
. "$(fixture fixture.env)"
command -v hivexget >/dev/null || fail "hivexget (libhivex-bin) is not installed (make deps installs it)"
command -v hivexregedit >/dev/null || fail "hivexregedit (libwin-hivex-perl) is not installed (make deps installs it)"

# merge HIVEFILE PREFIX REGTEXT: apply .reg text (keys relative to the hive's
# root; parents must exist) to a hive file.
merge() {
	printf 'Windows Registry Editor Version 5.00\n\n%s\n' "$3" >"$WORK/edit.reg"
	hivexregedit --merge --prefix "$2" "$1" "$WORK/edit.reg" || fail "hivexregedit --merge $1"
}
ridkey() { printf '%08X' "${1##*-}"; }

cp --sparse=always "$vol" "$WORK/src.img"
mnt "$WORK/src.img" "$WORK/m" rw
C="$WORK/m/Windows/System32/config"
cp "$C/SAM" "$C/SECURITY" "$C/SOFTWARE" "$WORK/m/Users/bob/NTUSER.DAT" "$WORK/" || fail "copy hives out"
cp "$WORK/m/Users/carol/NTUSER.DAT" "$WORK/carol.DAT" || fail "copy carol's hive out"
gone="bob olduser"
for k in $REAL_USER_KEYS; do gone="$gone $(eval echo "\$${k}_NAME")"; done
del=""
for n in $gone; do
	sid=$(for k in $USER_KEYS; do [ "$(eval echo "\$${k}_NAME")" = "$n" ] && eval echo "\$${k}_SID"; done)
	del+=$(printf '[-\\SAM\\Domains\\Account\\Users\\Names\\%s]\n\n[-\\SAM\\Domains\\Account\\Users\\%s]\n\n' \
		"$n" "$(ridkey "$sid")")$'\n'
done
merge "$WORK/SAM" 'HKEY_LOCAL_MACHINE\SAM' "$del"
merge "$WORK/SECURITY" 'HKEY_LOCAL_MACHINE\SECURITY' '[-\Policy\PolAcDmS]'
LU='\Microsoft\Windows\CurrentVersion\Authentication\LogonUI'
merge "$WORK/SOFTWARE" 'HKEY_LOCAL_MACHINE\SOFTWARE' "$(printf '[%s]\n"LastLoggedOnUser"=".\\\\olduser"\n"LastLoggedOnSAMUser"="WS-PC01\\\\olduser"\n"LastLoggedOnUserSID"="%s"\n"LastLoggedOnDisplayName"="Old User"\n' \
	"$LU" "$OLDUSER_SID")"
merge "$WORK/NTUSER.DAT" 'HKEY_CURRENT_USER' '[\Software\Microsoft\Windows\CurrentVersion\Explorer]
"Logon User Name"="bob"

[\Software\Microsoft\Office]

[\Software\Microsoft\Office\Common]

[\Software\Microsoft\Office\Common\UserInfo]
"UserName"="Bob Brown (Sales)"
"UserInitials"="BB"'
merge "$WORK/carol.DAT" 'HKEY_CURRENT_USER' '[\Volatile Environment]
"USERNAME"="cclark"'
[ -z "$(hivexget "$WORK/SECURITY" 'Policy\PolAcDmS' '@' 2>/dev/null)" ] || fail "PolAcDmS is still there"
cp "$WORK/SAM" "$WORK/SECURITY" "$WORK/SOFTWARE" "$C/" && cp "$WORK/NTUSER.DAT" "$WORK/m/Users/bob/NTUSER.DAT" &&
	cp "$WORK/carol.DAT" "$WORK/m/Users/carol/NTUSER.DAT" || fail "copy hives back"
umnt "$WORK/m"

# ---- winstate users: names ranked as evidence, display names apart, types by machine SID
run 0 "$WS_BIN" users "$WORK/src.img" --json --no-sizes
echo "$OUT" >"$WORK/users.json"
python3 - "$WORK/users.json" "$(fixture fixture.env)" <<'PY' || fail "users --json on the edited disk"
import json, shlex, sys
d = json.load(open(sys.argv[1]))
env = {}
for line in open(sys.argv[2], encoding="utf-8"):
    if "=" in line and not line.startswith("#"):
        k, v = line.rstrip("\n").split("=", 1)
        env[k] = shlex.split(v)[0] if v else ""
w = d["windows"]
by = {u["sid"]: u for u in d["users"] if u["sid"] and not u["bak"]}
bad = []
def check(c, what):
    if not c:
        bad.append(what)
check(w["machine_sid"] == env["MACHINE_SID"], "machine SID %r" % w["machine_sid"])
check(w["machine_sid_source"].startswith("SAM"), "machine SID source %r" % w["machine_sid_source"])
bob, old, carol = by[env["BOB_SID"]], by[env["OLDUSER_SID"]], by[env["CAROL_SID"]]
check(bob["name"] == "bob" and bob["name_source"] == "hive: Explorer\\Logon User Name", "bob: %r %r" % (bob["name"], bob["name_source"]))
check(bob["display_name"] == "Bob Brown (Sales)" and "Office" in bob["display_name_source"], "bob display %r" % bob["display_name"])
check(bob["type"] == "local" and old["type"] == "local", "types %r %r" % (bob["type"], old["type"]))
check(old["name"] == "olduser" and old["name_source"] == "SOFTWARE: LogonUI LastLoggedOnSAMUser", "olduser %r %r" % (old["name"], old["name_source"]))
check(old["display_name"] == "Old User", "olduser display %r" % old["display_name"])
check(carol["name"] == "cclark" and carol["type"] == "domain" and carol["account_domain"] == "CONTOSO", "carol %r %r %r" % (carol["name"], carol["type"], carol["account_domain"]))
check(by[env["DAVE_SID"]]["name"] == env["DAVE_NAME"], "Dave from IdentityStore SAMName")
check(by[env["DAVE_SID"]]["name_source"] == "SOFTWARE: IdentityStore\\Cache SAMName", by[env["DAVE_SID"]]["name_source"])
for k in env["REAL_USER_KEYS"].split():
    u = by[env[k + "_SID"]]
    folder = env[k + "_PROFILE"].split("/")[-1]
    check(u["type"] == "local", "%s type %r" % (k, u["type"]))
    check(u["name"] == folder and u["name_source"] == "profile folder name",
          "%s (%s): named %r from %r" % (k, env[k + "_SOURCE"], u["name"], u["name_source"]))
    check(u["name"] not in ("admin", "vibranium", "tony") and "@" not in u["name"], "%s: %r" % (k, u["name"]))
    if env[k + "_SOURCE"] == "NTUSER.DAT.xz":
        check(u["display_name"] == "vibranium", "%s: Office's user name is a display name: %r" % (k, u["display_name"]))
if bad:
    print("\n".join(bad))
    sys.exit(1)
PY
run 0 "$WS_BIN" users "$WORK/src.img" --no-sizes
contains "$OUT" "Machine SID: $MACHINE_SID (from SAM Domains\\Account V"
contains "$OUT" 'display name "Bob Brown (Sales)" (Office Common\UserInfo\UserName, not an account name)'

# explain --user takes the account name, the SID, or the profile folder's name.
run 0 "$WS_BIN" explain --user carol "$WORK/src.img" 'C:\Users\carol\Desktop\notes.txt'
contains "$OUT" "user context (cclark): INCLUDED"
run 0 "$WS_BIN" explain --user cclark "$WORK/src.img" 'C:\Users\carol\Desktop\notes.txt'
contains "$OUT" "user context (cclark): INCLUDED"
run 3 "$WS_BIN" explain --user carol.CONTOSO "$WORK/src.img" 'C:\Users\carol\Desktop\notes.txt'
contains "$ERR" 'no profile for "carol.CONTOSO"'

# ---- selection: the machine SID makes bob and olduser WS-PC01\ accounts
users_in() {
	python3 -c '
import json, sys
r = json.load(open(sys.argv[1] + "/report.json"))
print(" ".join(sorted(u["name"] for u in r["users"] if u["captured"])))' "$1"
}
run 0 "$WS_BIN" scan "$WORK/src.img" "$WORK/sel1" --efs skip --ue '*\*' --ui 'WS-PC01\bob' --ui 'WS-PC01\olduser'
[ "$(users_in "$WORK/sel1")" = "bob olduser" ] || fail "WS-PC01\\bob WS-PC01\\olduser: $(users_in "$WORK/sel1")"
run 0 "$WS_BIN" scan "$WORK/src.img" "$WORK/sel2" --efs skip --ue '*\*' --ui 'CONTOSO\cclark'
[ "$(users_in "$WORK/sel2")" = "cclark" ] || fail "CONTOSO\\cclark: $(users_in "$WORK/sel2")"
run 0 "$WS_BIN" scan "$WORK/src.img" "$WORK/sel3" --efs skip --ue 'CONTOSO\*' --ue 'WS-PC01\*'
[ "$(users_in "$WORK/sel3")" = "DaveMiller" ] || fail "local and domain accounts excluded: $(users_in "$WORK/sel3")"

# A domain that cannot be known offline (no USERDOMAIN in carol's hive, no
# domain in SYSTEM): *\* still names her, a bare name still includes her.
cp --sparse=always "$WORK/src.img" "$WORK/nodom.img"
mnt "$WORK/nodom.img" "$WORK/m" rw
cp "$WORK/m/Windows/System32/config/SYSTEM" "$WORK/m/Windows/System32/config/SAM" "$WORK/m/Users/carol/NTUSER.DAT" \
	"$WORK/" || fail "copy out"
# ... and a SAM without its Account record: the machine SID is unknown, so
# nobody below it may be called a domain account.
merge "$WORK/SAM" 'HKEY_LOCAL_MACHINE\SAM' '[\SAM\Domains\Account]
"V"=-'
cp "$WORK/SAM" "$WORK/m/Windows/System32/config/SAM" || fail "copy SAM back"
merge "$WORK/SYSTEM" 'HKEY_LOCAL_MACHINE\SYSTEM' '[\ControlSet001\Services\Tcpip\Parameters]
"Domain"=-
"NV Domain"=-'
merge "$WORK/NTUSER.DAT" 'HKEY_CURRENT_USER' '[\Volatile Environment]
"USERDOMAIN"=-'
cp "$WORK/SYSTEM" "$WORK/m/Windows/System32/config/SYSTEM" && cp "$WORK/NTUSER.DAT" "$WORK/m/Users/carol/NTUSER.DAT" ||
	fail "copy back"
umnt "$WORK/m"
run 0 "$WS_BIN" users "$WORK/nodom.img" --json --no-sizes
python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["windows"]["domain"] is None and d["windows"]["machine_sid"] is None, d["windows"]
by = {u["sid"]: u for u in d["users"] if u["sid"]}
c = by[sys.argv[2]]
assert c["account_domain"] is None and c["type"] == "domain", c  # PolPrDmS: the domain SID
a = by[sys.argv[3]]
assert a["type"] == "unknown", a["type"]' "$OUT" "$CAROL_SID" "$ALICE_SID" || fail "users without a domain or machine SID"
run 0 "$WS_BIN" users "$WORK/nodom.img" --no-sizes
contains "$OUT" "Machine SID: unknown"
run 0 "$WS_BIN" scan "$WORK/nodom.img" "$WORK/sel4" --efs skip --ue '*\*'
[ "$(users_in "$WORK/sel4")" = "" ] || fail "--ue *\\* left someone in: $(users_in "$WORK/sel4")"
run 0 "$WS_BIN" scan "$WORK/nodom.img" "$WORK/sel5" --efs skip --ue '*\*' --ui cclark
[ "$(users_in "$WORK/sel5")" = "cclark" ] || fail "--ue *\\* --ui cclark: $(users_in "$WORK/sel5")"

# ---- restore: folders named after the source's, Windows' suffixes when taken
run 0 "$WS_BIN" scan "$WORK/src.img" "$WORK/store" --efs skip --ue '*\*' --ui 'WS-PC01\alice' \
	--ui 'WS-PC01\bob' --ui 'CONTOSO\cclark' --ui 'AzureAD\DaveMiller'
cp --sparse=always "$WORK/src.img" "$WORK/tgt.img"
WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" "$WORK/tgt.img" >"$WORK/reinstall.log" 2>&1 \
	|| fail "reinstall.sh: $(tail -5 "$WORK/reinstall.log")"
# LoadState's selection uses the same patterns: *\* is everyone, DOMAIN\user names one.
cp --sparse=always "$WORK/tgt.img" "$WORK/tgt-sel.img"
run 0 "$WS_BIN" load "$WORK/store" "$WORK/tgt-sel.img" --ue '*\*' --ui 'CONTOSO\cclark' --json
python3 -c '
import json, sys
d = json.loads(sys.argv[1])
got = sorted(u["name"] for u in d["users"] if u["target_sid"])
assert got == ["cclark"], got
assert all("not selected" in u["skipped"] for u in d["users"] if u["name"] != "cclark"), d["users"]' "$OUT" ||
	fail "load --ue *\\* --ui CONTOSO\\cclark: $OUT"
rm -f "$WORK/tgt-sel.img"
# Someone on the new Windows already has C:\Users\bob, C:\Users\carol and C:\Users\carol.CONTOSO.
mnt "$WORK/tgt.img" "$WORK/m" rw
mkdir "$WORK/m/Users/bob" "$WORK/m/Users/carol" "$WORK/m/Users/carol.CONTOSO" || fail "mkdir on the target"
echo "someone else's" >"$WORK/m/Users/bob/keep.txt"
umnt "$WORK/m"
run 0 "$WS_BIN" load "$WORK/store" "$WORK/tgt.img" --lac --json --log "$WORK/load.log"
echo "$OUT" >"$WORK/load.json"
mnt "$WORK/tgt.img" "$WORK/t" ro,streams_interface=xattr
SW="$WORK/t/Windows/System32/config/SOFTWARE"
PL='Microsoft\Windows NT\CurrentVersion\ProfileList'
python3 - "$WORK/load.json" "$WORK/t" "$SW" "$PL" "$ALICE_SID" "$BOB_SID" "$CAROL_SID" "$DAVE_SID" <<'PY' || fail "new profiles"
import json, os, subprocess, sys
d = json.load(open(sys.argv[1]))
root, sw, pl = sys.argv[2], sys.argv[3], sys.argv[4]
want = {sys.argv[5]: "alice", sys.argv[6]: "bob.WS-PC01", sys.argv[7]: "carol.CONTOSO.000",
        sys.argv[8]: "DaveMiller"}
users = {u["store_sid"]: u for u in d["users"]}
bad = []
for sid, folder in want.items():
    u = users[sid]
    if u["profile"] != "Users/" + folder or not u["created"]:
        bad.append("%s: profile %r, expected Users/%s" % (u["name"], u["profile"], folder))
    if not os.path.isfile(os.path.join(root, "Users", folder, "NTUSER.DAT")):
        bad.append("no %s/NTUSER.DAT through the driver" % folder)
    got = subprocess.run(["hivexget", sw, pl + "\\" + u["target_sid"], "ProfileImagePath"],
                         capture_output=True, text=True).stdout.strip()
    if got != "C:\\Users\\" + folder:
        bad.append("%s: ProfileImagePath %r, expected C:\\Users\\%s" % (u["name"], got, folder))
for guessed in ("cclark", "Bob Brown (Sales)", "carol.WS-PC01"):
    if os.path.exists(os.path.join(root, "Users", guessed)):
        bad.append("a profile was named after a guess: Users/" + guessed)
if open(os.path.join(root, "Users/bob/keep.txt")).read() != "someone else's\n":
    bad.append("the folder that was already there changed")
if bad:
    print("\n".join(bad))
    sys.exit(1)
PY
umnt "$WORK/t"
grep -q 'Users/carol is taken on the target' "$WORK/load.log" || fail "the log does not say why carol's folder has a suffix"

# ---- bad input: a name no profile has, malformed patterns, a /uel that is not a number or date
run 0 "$WS_BIN" scan "$WORK/src.img" "$WORK/bad1" --efs skip --ue '*\*' --ui 'CONTOSO\nobody'
contains "$ERR" '"CONTOSO\nobody" (--ui) matches no profile'
[ "$(users_in "$WORK/bad1")" = "" ] || fail "an unknown --ui captured someone"
run 2 "$WS_BIN" scan "$WORK/src.img" "$WORK/bad2" --ue ''
contains "$ERR" 'is empty'
run 2 "$WS_BIN" scan "$WORK/src.img" "$WORK/bad2" --ui 'CONTOSO\'
contains "$ERR" 'has no user after the backslash'
run 2 "$WS_BIN" load "$WORK/store" "$WORK/tgt.img" --ue '\bob'
contains "$ERR" 'has no domain before the backslash'
run 2 "$WS_BIN" scan "$WORK/src.img" "$WORK/bad2" --uel fortnight
contains "$ERR" 'fortnight'
run 2 "$WS_BIN" scan "$WORK/src.img" "$WORK/bad2" --uel 2023/02/30x
ln -sf "$WS_BIN" "$WORK/scanstate"
run 11 "$WORK/scanstate" "$WORK/bad3" "/offlinewindir:$WORK/src.img" '/ue:'
run 11 "$WORK/scanstate" "$WORK/bad3" "/offlinewindir:$WORK/src.img" '/ui:CONTOSO\'
contains "$ERR" 'has no user after the backslash'
run 11 "$WORK/scanstate" "$WORK/bad3" "/offlinewindir:$WORK/src.img" '/uel:last-week'
[ ! -e "$WORK/bad2" ] && [ ! -e "$WORK/bad3" ] || fail "a refused command line wrote a store"
exit 0
