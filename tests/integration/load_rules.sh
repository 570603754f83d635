#!/usr/bin/env bash
# Restore-time rules (issue #6): capture with a rule file, "reinstall"
# Windows, restore once, change the target as its user would, then restore
# again with the rules and Config.xml — checked through the ntfs-3g driver and
# hivex's tools, never winstate's own reader:
#   locationModify RelativeMove   Documents\Projects lands in Documents\Archive\Projects
#   merge SourcePriority          Desktop\notes.txt replaces the target's copy (no notes(1).txt)
#   merge DestinationPriority     Documents\document-01.xlsx: the target's copy stays
#   registry                      RelativeMove of HKCU\Network, ExactMove renaming a value,
#                                 DestinationPriority keeps the target's Wallpaper, and
#                                 without a rule the store's TileWallpaper wins
#   default (no merge rule)       document-02.pdf: both kept, document-02(1).pdf
#   destinationCleanup            HKCU\Software\WinstateTest (values and subkey) and Desktop\*.tmp
#   Config.xml migrate="no"       Google Chrome's files are not restored, each listed
# Bad input: a rule file or Config.xml that does not parse or is missing (nothing
# written), a RelativeMove out of the profile (refused per file, nothing written
# outside), Config.xml's <ProfileControl> mapping (the command line wins), a
# damaged store file under <ErrorControl><nonFatal>.
# Microsoft's MigDocs/MigUser/MigApp.xml and Config.xml through loadstate.
. "$(dirname "$0")/common.bash"

vol=$(fixture volume.img)
. "$(fixture fixture.env)"
command -v hivexget >/dev/null && command -v hivexregedit >/dev/null ||
	fail "hivexget/hivexregedit (libhivex-bin) are not installed (make deps installs them)"
DEFAULT_XML="$WS_TOP/rules/xml/winstate-default.xml"
NEW_SID=S-1-5-21-3777777777-3888888888-399999999-1104
ln -sf "$WS_BIN" "$WORK/loadstate"

cat >"$WORK/test.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://www.example.com/migration/winstate-restore-test">
  <component type="Documents" context="User">
    <displayName>Restore test rules</displayName>
    <role role="Data">
      <rules>
        <include>
          <objectSet>
            <pattern type="File">%CSIDL_PERSONAL%\Projects\* [*]</pattern>
            <pattern type="File">%CSIDL_DESKTOP% [notes.txt]</pattern>
          </objectSet>
        </include>
        <locationModify script="MigXmlHelper.RelativeMove('%CSIDL_PERSONAL%\Projects','%CSIDL_PERSONAL%\Archive\Projects')">
          <objectSet><pattern type="File">%CSIDL_PERSONAL%\Projects\* [*]</pattern></objectSet>
        </locationModify>
        <merge script="MigXmlHelper.SourcePriority()">
          <objectSet><pattern type="File">%CSIDL_DESKTOP% [notes.txt]</pattern></objectSet>
        </merge>
        <merge script="MigXmlHelper.DestinationPriority()">
          <objectSet><pattern type="File">%CSIDL_PERSONAL% [document-01.xlsx]</pattern></objectSet>
        </merge>
        <locationModify script="MigXmlHelper.RelativeMove('HKCU\Network','HKCU\Software\WinstateDrives')">
          <objectSet><pattern type="Registry">HKCU\Network\* [*]</pattern></objectSet>
        </locationModify>
        <locationModify script="MigXmlHelper.ExactMove('HKCU\Control Panel\Mouse [WinstateSpeed]')">
          <objectSet><pattern type="Registry">HKCU\Control Panel\Mouse [DoubleClickSpeed]</pattern></objectSet>
        </locationModify>
        <merge script="MigXmlHelper.DestinationPriority()">
          <objectSet><pattern type="Registry">HKCU\Control Panel\Desktop [Wallpaper]</pattern></objectSet>
        </merge>
        <destinationCleanup>
          <objectSet>
            <pattern type="Registry">HKCU\Software\WinstateTest\* [*]</pattern>
            <pattern type="File">%CSIDL_DESKTOP% [*.tmp]</pattern>
          </objectSet>
        </destinationCleanup>
      </rules>
    </role>
  </component>
</migration>
EOF
# A move out of the profile: refused for each file, nothing written there.
cat >"$WORK/outside.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://www.example.com/migration/winstate-restore-outside">
  <component type="Documents" context="User">
    <displayName>Move out of the profile</displayName>
    <role role="Data">
      <rules>
        <locationModify script="MigXmlHelper.RelativeMove('%CSIDL_MYPICTURES%\Wallpapers','C:\Outside\Wallpapers')">
          <objectSet><pattern type="File">%CSIDL_MYPICTURES%\Wallpapers\* [*]</pattern></objectSet>
        </locationModify>
      </rules>
    </role>
  </component>
</migration>
EOF
printf '<?xml version="1.0"?>\n<migration urlid="http://x/broken">\n  <component type="Documents">\n' >"$WORK/broken.xml"

cp --sparse=always "$vol" "$WORK/src.img"
run 0 "$WS_BIN" scan "$WORK/src.img" "$WORK/store" --efs skip --rules "$DEFAULT_XML" --rules "$WORK/test.xml"
run 0 "$WS_BIN" genconfig --rules "$DEFAULT_XML" --rules "$WORK/test.xml"
sed '/displayname="Google Chrome"/s/migrate="yes"/migrate="no"/' <<<"$OUT" >"$WORK/Config.xml"
grep -q 'displayname="Google Chrome" migrate="no"' "$WORK/Config.xml" || fail "genconfig has no Google Chrome component"
cp --sparse=always "$WORK/src.img" "$WORK/tgt.img"
WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" "$WORK/tgt.img" >"$WORK/reinstall.log" 2>&1 \
	|| fail "reinstall.sh: $(tail -5 "$WORK/reinstall.log")"
cp --sparse=always "$WORK/tgt.img" "$WORK/tgt2.img"
cp --sparse=always "$WORK/tgt.img" "$WORK/tgt0.img"
CAROL=(--ui carol --ue '*')

# 1. Rule files and Config.xml that cannot be used: refused before any write.
before=$(md5sum <"$WORK/tgt.img")
run 3 "$WS_BIN" load "$WORK/store" "$WORK/tgt.img" "${CAROL[@]}" --rules "$WORK/broken.xml"
contains "$ERR" "broken.xml is unusable"
contains "$ERR" "nothing was written"
run 3 "$WS_BIN" load "$WORK/store" "$WORK/tgt.img" "${CAROL[@]}" --rules "$WORK/missing.xml"
contains "$ERR" "missing.xml is unusable"
run 3 "$WS_BIN" load "$WORK/store" "$WORK/tgt.img" "${CAROL[@]}" --config "$WORK/broken.xml"
contains "$ERR" "configuration file"
run 28 "$WORK/loadstate" "$WORK/store" "/target:$WORK/tgt.img" /ue:'*' /ui:carol "/i:$WORK/broken.xml"
run 28 "$WORK/loadstate" "$WORK/store" "/target:$WORK/tgt.img" /ue:'*' /ui:carol "/i:$WORK/missing.xml"
run 39 "$WORK/loadstate" "$WORK/store" "/target:$WORK/tgt.img" /ue:'*' /ui:carol "/config:$WORK/missing.xml"
[ "$(md5sum <"$WORK/tgt.img")" = "$before" ] || fail "a refused rule file still changed the target"

# 2. First restore without rules; then the target's user changes things.
run 0 "$WS_BIN" load "$WORK/store" "$WORK/tgt.img" "${CAROL[@]}"
P="$WORK/m/Users/carol"
mnt "$WORK/tgt.img" "$WORK/m" rw
[ -f "$P/AppData/Local/Google/Chrome/User Data/Default/Bookmarks" ] || fail "Chrome's Bookmarks not restored without Config.xml"
echo "the target's notes" >"$P/Desktop/notes.txt"
echo "the target's workbook" >"$P/Documents/document-01.xlsx"
echo "scratch" >"$P/Desktop/old.tmp"
echo "kept" >"$P/Desktop/keep.txt"
cp "$P/NTUSER.DAT" "$WORK/ntuser.dat"
printf 'Windows Registry Editor Version 5.00\n\n[\\Software\\WinstateTest]\n"Old"="stale"\n\n[\\Software\\WinstateTest\\Sub]\n"X"=dword:00000001\n\n[\\Control Panel\\Desktop]\n"Wallpaper"="target.jpg"\n"TileWallpaper"="7"\n' >"$WORK/add.reg"
hivexregedit --merge "$WORK/ntuser.dat" "$WORK/add.reg" || fail "cannot add the test key"
cp "$WORK/ntuser.dat" "$P/NTUSER.DAT"
umnt "$WORK/m"
[ "$(hivexget "$WORK/ntuser.dat" 'Software\WinstateTest' Old)" = stale ] || fail "test key not written"

# 3. The restore with the rules and Config.xml.
run 0 "$WS_BIN" load "$WORK/store" "$WORK/tgt.img" "${CAROL[@]}" --rules "$DEFAULT_XML" \
	--rules "$WORK/test.xml" --config "$WORK/Config.xml" --json --log "$WORK/load.log"
python3 - "$OUT" <<'EOF' || fail "load summary: $OUT"
import json, sys
d = json.loads(sys.argv[1])
r = d["rules"]
assert r["moved"] == 2 + 6 + 1 and r["replaced"] == 1 and r["cleaned"] >= 4, r
assert r["kept"] >= 1 and r["disabled"] >= 3, r
assert not d["problems"], d["problems"]
notes = "\n".join(d["notes"])
assert 'Bookmarks: not restored: component "Google Chrome" disabled in Config.xml' in notes, notes
assert "document-01.xlsx: kept the existing" in notes, notes
EOF
mnt "$WORK/tgt.img" "$WORK/t" ro
mnt "$WORK/src.img" "$WORK/s" ro
T="$WORK/t/Users/carol" S="$WORK/s/Users/carol"
# locationModify: moved, with the captured content; no copy at the old place.
cmp "$S/Documents/Projects/2023/document-00.docx" "$T/Documents/Archive/Projects/2023/document-00.docx" \
	|| fail "RelativeMove: document-00.docx not in Archive\\Projects"
cmp "$S/Documents/Projects/2023/document-03.pptx" "$T/Documents/Archive/Projects/2023/document-03.pptx" \
	|| fail "RelativeMove: document-03.pptx not in Archive\\Projects"
[ ! -e "$T/Documents/Projects/2023/document-00(1).docx" ] || fail "RelativeMove: a copy at the old place too"
# SourcePriority: replaced; DestinationPriority: kept; no merge rule: both.
cmp "$S/Desktop/notes.txt" "$T/Desktop/notes.txt" || fail "SourcePriority: notes.txt not replaced"
[ ! -e "$T/Desktop/notes(1).txt" ] || fail "SourcePriority: notes(1).txt made"
[ "$(cat "$T/Documents/document-01.xlsx")" = "the target's workbook" ] || fail "DestinationPriority: replaced"
[ ! -e "$T/Documents/document-01(1).xlsx" ] || fail "DestinationPriority: document-01(1).xlsx made"
cmp "$S/Documents/document-02.pdf" "$T/Documents/document-02(1).pdf" || fail "default merge: no document-02(1).pdf"
# destinationCleanup of files: the *.tmp is gone, the rest stays.
[ ! -e "$T/Desktop/old.tmp" ] || fail "destinationCleanup: Desktop\\old.tmp still there"
[ "$(cat "$T/Desktop/keep.txt")" = kept ] || fail "destinationCleanup removed keep.txt"
# Config.xml: Chrome's files are not restored a second time.
[ ! -e "$T/AppData/Local/Google/Chrome/User Data/Default/Bookmarks(1)" ] || fail "Chrome restored despite migrate=no"
ls "$T/AppData/Local/Google/Chrome/User Data/Default" | grep -q '(1)' && fail "a Chrome file restored again"
# destinationCleanup of the registry: values and subkey gone; restored values there.
cp "$T/NTUSER.DAT" "$WORK/ntuser2.dat"
umnt "$WORK/t"
umnt "$WORK/s"
hivexget "$WORK/ntuser2.dat" 'Software\WinstateTest' Old >/dev/null 2>&1 && fail "destinationCleanup: value Old still there"
hivexget "$WORK/ntuser2.dat" 'Software\WinstateTest\Sub' X >/dev/null 2>&1 && fail "destinationCleanup: subkey Sub still there"
grep -q "destinationCleanup HKCU" "$WORK/load.log" || fail "the log does not name the cleanup"
# Registry locationModify and merge.
[ "$(hivexget "$WORK/ntuser2.dat" 'Software\WinstateDrives\Z' RemotePath)" = '\\fileserver\carol' ] ||
	fail "RelativeMove of HKCU\Network: $(hivexregedit --export "$WORK/ntuser2.dat" '\Software' | head -20)"
[ "$(hivexget "$WORK/ntuser2.dat" 'Control Panel\Mouse' WinstateSpeed)" = 500 ] || fail "ExactMove of DoubleClickSpeed"
[ "$(hivexget "$WORK/ntuser2.dat" 'Control Panel\Desktop' Wallpaper)" = target.jpg ] || fail "DestinationPriority: Wallpaper replaced"
[ "$(hivexget "$WORK/ntuser2.dat" 'Control Panel\Desktop' TileWallpaper)" = 0 ] || fail "registry default: the store's TileWallpaper did not win"

# 4. A RelativeMove out of the profile: those files are refused and listed,
#    nothing appears outside; Config.xml's ProfileControl maps carol (and
#    --mu on the command line would win over it).
sed "s#</Configuration>#<ProfileControl><users><user from=\"CONTOSO\\\\carol\" to=\"$NEW_SID\"/></users></ProfileControl></Configuration>#" \
	"$WORK/Config.xml" >"$WORK/Config2.xml"
grep -q "$NEW_SID" "$WORK/Config2.xml" || fail "Config2.xml not made"
run 1 "$WS_BIN" load "$WORK/store" "$WORK/tgt2.img" "${CAROL[@]}" --rules "$DEFAULT_XML" \
	--rules "$WORK/outside.xml" --config "$WORK/Config2.xml" --json
python3 - "$OUT" "$NEW_SID" <<'EOF' || fail "outside move: $OUT"
import json, sys
d = json.loads(sys.argv[1])
probs = "\n".join(d["problems"])
assert "Users/carol/Pictures/Wallpapers/mountains.jpg: not restored" in probs, probs
assert "C:\\Outside\\Wallpapers\\mountains.jpg" in probs and "outside" in probs, probs
assert len(d["problems"]) == 1, d["problems"]
c = [u for u in d["users"] if u["name"] == "carol"][0]
assert c["target_sid"] == sys.argv[2] and c["files"] > 10, c
EOF
mnt "$WORK/tgt2.img" "$WORK/t2" ro
[ ! -e "$WORK/t2/Outside" ] || fail "a file was written outside the profile"
[ ! -e "$WORK/t2/Users/carol/Pictures/Wallpapers/mountains.jpg" ] || fail "the refused file was restored in place"
[ -f "$WORK/t2/Users/carol/Pictures/IMG_2000.jpg" ] || fail "the other pictures were not restored"
[ ! -e "$WORK/t2/Users/carol/AppData/Local/Google/Chrome/User Data/Default/Bookmarks" ] ||
	fail "Chrome restored into a new profile despite migrate=no"
umnt "$WORK/t2"
# The command line wins over ProfileControl.
cp --sparse=always "$WORK/tgt.img" "$WORK/tgt3.img"
run 0 "$WS_BIN" load "$WORK/store" "$WORK/tgt3.img" "${CAROL[@]}" --config "$WORK/Config2.xml" \
	--mu "CONTOSO\\carol:$CAROL_SID" --json
python3 -c '
import json, sys
c = [u for u in json.loads(sys.argv[1])["users"] if u["name"] == "carol"][0]
assert c["target_sid"] == sys.argv[2], c' "$OUT" "$CAROL_SID" || fail "--mu did not win over ProfileControl: $OUT"

# 5. Config.xml's <ErrorControl> at restore: a damaged store file under a
#    <nonFatal> pattern is skipped and listed (exit 1) instead of stopping (exit 3).
run 0 "$WS_BIN" scan "$WORK/src.img" "$WORK/dirstore" --nocompress --efs skip --ui carol --ue '*'
damaged="$WORK/dirstore/USMT/File/C\$/Users/carol/Desktop/notes.txt"
[ -f "$damaged" ] || fail "no $damaged in the directory store"
printf 'X' | dd of="$damaged" bs=1 seek=3 conv=notrunc status=none
sed 's#</Configuration>#<Policies><ErrorControl><fileError><nonFatal errorCode="any">C:\\Users\\* [*]</nonFatal></fileError></ErrorControl></Policies></Configuration>#' \
	"$WORK/Config.xml" >"$WORK/Config3.xml"
grep -q nonFatal "$WORK/Config3.xml" || fail "Config3.xml not made"
cp --sparse=always "$WORK/tgt0.img" "$WORK/tgt5.img"
cp --sparse=always "$WORK/tgt0.img" "$WORK/tgt6.img"
run 3 "$WS_BIN" load "$WORK/dirstore" "$WORK/tgt5.img" "${CAROL[@]}"
contains "$ERR" "notes.txt"
run 1 "$WS_BIN" load "$WORK/dirstore" "$WORK/tgt6.img" "${CAROL[@]}" --config "$WORK/Config3.xml"
contains "$ERR" "Users/carol/Desktop/notes.txt: not restored"
mnt "$WORK/tgt6.img" "$WORK/t6" ro
[ ! -e "$WORK/t6/Users/carol/Desktop/notes.txt" ] || fail "the damaged file was kept"
[ -f "$WORK/t6/Users/carol/Pictures/IMG_2000.jpg" ] || fail "ErrorControl nonFatal: the other files were not restored"
umnt "$WORK/t6"

# 6. Microsoft's own rule files and Config.xml, through loadstate.
X="${WS_SHARED:-$WS_TOP/../shared}/usmt-xml"
if [ ! -f "$X/MigDocs.xml" ] || [ ! -f "$X/MigApp.xml" ] || [ ! -f "$X/MigUser.xml" ] || [ ! -f "$X/Config.xml" ]; then
	echo "note: $X (Microsoft's MigDocs/MigUser/MigApp.xml, Config.xml) is absent: that part is skipped"
	exit 0
fi
cp --sparse=always "$WORK/src.img" "$WORK/tgt4.img"
WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" "$WORK/tgt4.img" >/dev/null 2>&1 || fail reinstall
run 0 "$WORK/loadstate" "$WORK/store" "/target:$WORK/tgt4.img" /ue:'*' /ui:carol "/i:$X/MigDocs.xml" \
	"/i:$X/MigUser.xml" "/i:$X/MigApp.xml" "/config:$X/Config.xml" "/l:$WORK/ms.log"
contains "$OUT" "carol"
lacks "$OUT" "not applied"
mnt "$WORK/tgt4.img" "$WORK/t4" ro
mnt "$WORK/src.img" "$WORK/s" ro
cmp "$WORK/s/Users/carol/Documents/document-02.pdf" "$WORK/t4/Users/carol/Documents/document-02.pdf" ||
	fail "with Microsoft's rules, carol's documents are not restored"
umnt "$WORK/s"
umnt "$WORK/t4"
exit 0
