#!/usr/bin/env bash
# `winstate scan` and `scanstate`: user selection, estimate, Windows.old, and
# every refusal with its exit code in both spellings (docs/capture.md).
. "$(dirname "$0")/common.bash"

vol=$(fixture volume.img)
win=$(fixture win.img)
. "$(fixture fixture.env)"
SS="$WORK/bin/scanstate"
mkdir -p "$WORK/bin" && ln -s "$WS_BIN" "$SS"
cd "$WORK" || fail "cd"

# users_in STORE: "name:captured" for each profile in report.json
users_in() {
	python3 -c '
import json, sys
r = json.load(open(sys.argv[1] + "/report.json"))
print(" ".join(sorted(u["name"] for u in r["users"] if u["captured"])))' "$1"
}

# ---- a plain capture: counts, report, log, listfiles, progress
run 0 "$WS_BIN" scan "$win" s1 --efs skip --log s1.log --listfiles s1.list --progress s1.prog
contains "$OUT" "captured"
[ -f s1/USMT/USMT.MIG ] || fail "no USMT.MIG"
[ ! -e s1/USMT/USMT.MIG.partial ] || fail "a .partial was left"
[ "$(users_in s1)" = "DaveMiller alice bob carol erin olduser real1 real2 real3" ] ||
	[ "$(users_in s1)" = "DaveMiller alice bob carol erin olduser" ] || fail "users: $(users_in s1)"
grep -qF "C:\\${ZONE_FILE//\//\\}" s1.list || fail "listfiles lacks $ZONE_FILE"
! grep -qiF 'pagefile.sys' s1.list || fail "pagefile.sys captured"
grep -q 'pagefile.sys not captured' s1.log || fail "the log does not say why pagefile.sys is left out"
grep -q ', PHASE, Saving' s1.prog || fail "progress log: $(head -5 s1.prog)"
grep -q 'detectedUser, WS-PC01\\alice, includedInMigration, Yes' s1.prog || fail "progress: no alice"
grep -q 'totalPercentageCompleted, 100' s1.prog || fail "progress: never 100%"
python3 - "$ONEDRIVE_PLACEHOLDER" "$EFS_FILE" <<'EOF' || fail "report.json skipped items"
import json, sys
r = json.load(open("s1/report.json"))
sk = {s["path"]: s for s in r["skipped"]}
ph = "C:\\" + sys.argv[1].replace("/", "\\")
efs = "C:\\" + sys.argv[2].replace("/", "\\")
assert "cloud" in sk[ph]["reason"] and not sk[ph]["error"], sk
assert "EFS" in sk[efs]["reason"], sk
assert r["complete"] and r["files"] > 100 and r["registry_values"] > 10, r
EOF

# ---- the store exists: refused without --overwrite (3 / 27), replaced with it
run 3 "$WS_BIN" scan "$win" s1 --efs skip
contains "$ERR" "already holds data"
run 27 "$SS" "$WORK/s1" "/offlinewindir:$win" /efs:skip
run 0 "$WS_BIN" scan "$win" s1 --efs skip --overwrite
run 0 "$SS" "$WORK/s1" "/offlinewindir:$win:3:\\Windows" /efs:skip /o
[ -f ScanState.log ] || fail "scanstate wrote no ScanState.log in the current folder"
# a folder that is not a store is never removed
mkdir notastore && echo keep >notastore/mine.txt
run 3 "$WS_BIN" scan "$win" notastore --efs skip --overwrite
contains "$ERR" "not a winstate store"
[ -f notastore/mine.txt ] || fail "--overwrite removed someone else's file"

# ---- user selection: /ui wins over /ue; SIDs; /uel by last use
run 0 "$WS_BIN" scan "$vol" u1 --efs skip --ue '*\*' --ui 'WS-PC01\alice'
[ "$(users_in u1)" = "alice" ] || fail "--ue *\\* --ui alice: $(users_in u1)"
run 0 "$WS_BIN" scan "$vol" u2 --efs skip --ue '*' --ui "S-1-5-21-*-1002"
[ "$(users_in u2)" = "bob" ] || fail "SID pattern: $(users_in u2)"
run 0 "$WS_BIN" scan "$vol" u3 --efs skip --ue olduser --ue 'CONTOSO\carol'
lacks "$(users_in u3)" "olduser"
lacks "$(users_in u3)" "carol"
contains "$(users_in u3)" "alice"
run 0 "$WS_BIN" scan "$vol" u4 --efs skip --uel 2020/01/01
lacks "$(users_in u4)" "olduser"
contains "$(users_in u4)" "bob"
run 0 "$WS_BIN" scan "$vol" u5 --efs skip --uel 0
[ "$(users_in u5)" = "alice" ] || fail "--uel 0 (most recent): $(users_in u5)"
run 0 "$WS_BIN" scan "$vol" u6 --efs skip --uel 2020/01/01 --ui olduser
contains "$(users_in u6)" "olduser"
run 0 "$WS_BIN" scan "$vol" u7 --efs skip --ue 'AzureAD\DaveMiller' --ui nobody-here
contains "$ERR" "\"nobody-here\" (--ui) matches no profile"
lacks "$(users_in u7)" "DaveMiller"
run 0 "$SS" "$WORK/u8" "/offlinewindir:$vol" /efs:skip '/ue:*\*' "/ui:$CAROL_SID"
[ "$(users_in u8)" = "carol" ] || fail "scanstate /ui:SID: $(users_in u8)"
run 2 "$WS_BIN" scan "$vol" u9 --all --ui alice
run 11 "$SS" "$WORK/u9" "/offlinewindir:$vol" /all /ui:alice
run 2 "$WS_BIN" scan "$vol" u9 --uel yesterday
# /uel wins over /ue (USMT: "/ue:fixed\user1 /uel:14" keeps user1 if recent), and is an
# include rule: whoever it does not name is left out; /ui still wins over both.
run 0 "$WS_BIN" scan "$vol" u10 --efs skip --ue carol --ue 'CONTOSO\carol' --uel 20000
contains "$(users_in u10)" "carol"
python3 -c '
import json
c = [u for u in json.load(open("u10/report.json"))["users"] if u["name"] == "carol"][0]
assert c["captured"] and "--uel wins over --ue" in c["why"], c' || fail "carol's reason does not say /uel won"
# carol last used the PC on 2023-11-06, Dave on 2023-10-26, erin on 2023-10-16
run 0 "$SS" "$WORK/u11" "/offlinewindir:$vol" /efs:skip /ue:carol /uel:2023/11/01
contains "$(users_in u11)" "carol"
contains "$(users_in u11)" "alice"
for n in DaveMiller erin olduser; do lacks "$(users_in u11)" "$n"; done
run 0 "$WS_BIN" scan "$vol" u12 --efs skip --uel 2023/11/01 --ui olduser --ue olduser
contains "$(users_in u12)" "olduser"
lacks "$(users_in u12)" "DaveMiller"
python3 -c '
import json
r = json.load(open("u12/report.json"))
assert r["windows_version"] == "Windows 11 Pro 23H2 (build 22631)", r["windows_version"]' ||
	fail "report.json does not call build 22631 Windows 11"

# ---- Config.xml: a component switched off takes its files out
run 0 "$SS" /genconfig:cfg.xml
grep -q '<Configuration>' cfg.xml || fail "scanstate /genconfig: $(head -3 cfg.xml)"
python3 - <<'EOF2' || fail "could not edit cfg.xml"
import re
s = open("cfg.xml").read()
s2 = re.sub(r'(displayname="User known folders"[^>]*migrate=")yes', r'\1no', s)
assert s2 != s, s
open("cfg.xml", "w").write(s2)
EOF2
run 0 "$WS_BIN" scan "$vol" c1 --efs skip --config cfg.xml --listfiles c1.list
! grep -qF "C:\\${ZONE_FILE//\//\\}" c1.list || fail "a component with migrate=no was captured"
grep -q 'Bookmarks' c1.list || fail "the other components were not captured"

# ---- estimate: XML, no store
run 0 "$WS_BIN" scan "$vol" est --estimate est.xml
grep -q '<storeSize><size clusterSize="4096">[1-9][0-9]*</size></storeSize>' <(tr -d ' \n' <est.xml | sed 's/clusterSize/ clusterSize/') ||
	fail "estimate XML: $(cat est.xml)"
[ ! -e est/USMT ] || fail "--estimate wrote a store"
run 0 "$SS" "$WORK/est2" "/offlinewindir:$vol" /p:est2.xml
grep -q '<PreMigration>' est2.xml || fail "scanstate /p: $(cat est2.xml)"
run 11 "$SS" "$WORK/est3" "/offlinewindir:$vol" /p:x.xml /listfiles:l.txt

# ---- EFS: abort is the default (4 / 2); the store is left incomplete
run 4 "$WS_BIN" scan "$vol" e1
contains "$ERR" "EFS-encrypted"
contains "$ERR" "incomplete"
[ ! -e e1/USMT/USMT.MIG ] || fail "an aborted capture left a complete-looking USMT.MIG"
run 2 "$SS" "$WORK/e2" "/offlinewindir:$vol"
# copyraw captures them raw (scan_efs_copyraw.sh), but not into a hard-link store
run 2 "$WS_BIN" scan "$vol" e3 --efs copyraw --hardlink --nocompress
contains "$ERR" "a hard-link store copies nothing: use --efs hardlink"
run 11 "$SS" "$WORK/e3" "/offlinewindir:$vol" /efs:copyraw /hardlink /nocompress
contains "$ERR" "/efs:hardlink"
run 2 "$WS_BIN" scan "$vol" e3 --efs hardlink

# ---- unusable sources
run 3 "$WS_BIN" scan "$WORK/nonexistent.img" x1
run 26 "$SS" "$WORK/x1" "/offlinewindir:$WORK/nonexistent.img"
run 36 "$SS" "$WORK/x1"
contains "$ERR" "/offlinewindir"
run 3 "$WS_BIN" scan "$(fixture bitlocker.img)" x2
contains "$ERR" "BitLocker"
run 26 "$SS" "$WORK/x2" "/offlinewindir:$(fixture bitlocker.img)"
for img in hibernated dirty; do
	run 3 "$WS_BIN" scan "$(fixture $img.img)" "x-$img" --efs skip
	contains "$ERR" "stale"
	run 26 "$SS" "$WORK/x-$img" "/offlinewindir:$(fixture $img.img)" /efs:skip
	run 0 "$WS_BIN" scan "$(fixture $img.img)" "ok-$img" --efs skip --force-unclean
done
cp --sparse=always "$(fixture hibernated.img)" hib.img
run 3 "$WS_BIN" scan hib.img MigStore --hardlink --nocompress --efs skip --force-unclean
contains "$ERR" "hibernat"
run 26 "$SS" MigStore "/offlinewindir:$WORK/hib.img" /hardlink /nocompress /efs:skip

# ---- bad rules (3 / 28), config (3 / 39), log (3 / 13), progress (3 / 40)
echo '<migration urlid="x"><component' >bad.xml
run 3 "$WS_BIN" scan "$vol" r1 --rules bad.xml
contains "$ERR" "bad.xml"
run 28 "$SS" "$WORK/r1" "/offlinewindir:$vol" /i:bad.xml
run 28 "$SS" "$WORK/r1" "/offlinewindir:$vol" /i:missing.xml
echo '<Configuration><broken' >badcfg.xml
run 3 "$WS_BIN" scan "$vol" r2 --config badcfg.xml
run 39 "$SS" "$WORK/r2" "/offlinewindir:$vol" /config:badcfg.xml
run 3 "$WS_BIN" scan "$vol" r3 --log /nonexistent/dir/scan.log
run 13 "$SS" "$WORK/r3" "/offlinewindir:$vol" /l:/nonexistent/dir/scan.log
run 40 "$SS" "$WORK/r3" "/offlinewindir:$vol" /progress:/nonexistent/dir/p.log
run 2 "$WS_BIN" scan "$vol"
run 2 "$WS_BIN" scan "$vol" r4 --bogus
run 2 "$WS_BIN" scan "$vol" r4 --rules

# ---- hard-link store refusals
cp --sparse=always "$vol" hl.img
run 2 "$WS_BIN" scan hl.img MigStore --hardlink
run 11 "$SS" MigStore "/offlinewindir:$WORK/hl.img" /hardlink
run 3 "$WS_BIN" scan hl.img "$WORK/local-store" --hardlink --nocompress --efs skip
contains "$ERR" "on the volume it captures"
run 38 "$SS" "D:\\MigStore" "/offlinewindir:$WORK/hl.img" /hardlink /nocompress /efs:skip
run 0 "$WS_BIN" scan hl.img MigStore --hardlink --nocompress --efs skip
contains "$OUT" "linked"
run 3 "$WS_BIN" scan hl.img MigStore --hardlink --nocompress --efs skip
contains "$ERR" "already exists"
run 0 "$SS" "C:\\MigStore" "/offlinewindir:$WORK/hl.img" /hardlink /nocompress /efs:hardlink /o
run 0 "$WS_BIN" ls hl.img "MigStore/USMT/File/C\$/$(dirname "$ZONE_FILE")"
contains "$OUT" "$(basename "$ZONE_FILE")"

# ---- a file that already has 1024 names cannot get a 1025th in a hard-link
# store: without --continue the capture stops (4 / 61), with it the file is
# listed as an error and the rest is captured (1 / 3)
cp --sparse=always "$vol" full.img
mnt full.img "$WORK/mnt" rw
mkdir mnt/links
doc="mnt/${ZONE_FILE%/*/*}/Documents/many-links.txt"
echo data >"$doc"
for i in $(seq 1 1023); do ln "$doc" "mnt/links/l$i" || fail "ln $i"; done
umnt "$WORK/mnt"
run 4 "$WS_BIN" scan full.img MigStore --hardlink --nocompress --efs skip
contains "$ERR" "many-links.txt"
contains "$ERR" "--continue"
run 1 "$WS_BIN" scan full.img MigStore --hardlink --nocompress --efs skip --continue --overwrite
contains "$OUT" "could not be captured"
run 3 "$SS" MigStore "/offlinewindir:$WORK/full.img" /hardlink /nocompress /efs:skip /c /o

# ---- Windows.old after a reinstall: a note without --windir; captured with it
cp --sparse=always "$vol" old.img
WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" old.img >reinstall.log 2>&1 ||
	fail "reinstall.sh: $(tail -3 reinstall.log)"
run 0 "$WS_BIN" scan old.img w1 --efs skip
contains "$ERR" "Windows.old"
run 0 "$SS" "$WORK/w2" "/offlinewinold:$WORK/old.img" /efs:skip
contains "$(users_in w2)" "alice"
run 0 "$WS_BIN" scan old.img w3 --efs skip --windir Windows.old/Windows --listfiles w3.list
grep -qF "C:\\${ZONE_FILE//\//\\}" w3.list || fail "Windows.old capture: paths are not mapped to C:\\"
cat >offline.xml <<EOF
<offline><winDir><path>$WORK/missing.img</path><path>$WORK/old.img:\\Windows.old\\Windows</path></winDir></offline>
EOF
run 0 "$SS" "$WORK/w4" /offline:offline.xml /efs:skip
contains "$(users_in w4)" "alice"
echo '<offline><winDir><path>/nope.img</path></winDir></offline>' >none.xml
run 26 "$SS" "$WORK/w5" /offline:none.xml

# ---- encryption: a key is required, and the store is not readable as plain zstd
export WINSTATE_TEST_CHEAP_KDF=1
run 2 "$WS_BIN" scan "$vol" k1 --encrypt
run 2 "$WS_BIN" scan "$vol" k1 --key abc
run 0 "$WS_BIN" scan "$vol" k1 --efs skip --encrypt --key 'correct horse'
! grep -qa 'Bookmarks' k1/USMT/USMT.MIG || fail "an encrypted store shows plain names"
: >empty.key
run 33 "$SS" "$WORK/k2" "/offlinewindir:$vol" /encrypt /keyfile:empty.key
run 11 "$SS" "$WORK/k2" "/offlinewindir:$vol" /encrypt /key:x /nocompress
exit 0
