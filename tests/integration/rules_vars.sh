#!/usr/bin/env bash
# Rule variables (issue 13 part 3): scan and explain resolve them alike, with
# Windows' defaults when the SOFTWARE hive lacks a value; Microsoft's
# MigDocs + MigUser + MigApp capture the same files on a Windows whose hive
# lost ProfilesDirectory, SystemRoot, ProgramFilesDir ... as on the complete
# one; Public folders migrate; an undefined variable never widens a capture;
# a second rule file with the same urlid is said everywhere.
# The degraded hive is edited with hivexregedit and put on a copy of the
# volume through the ntfs-3g driver; hivexget checks the edit, and the
# expected Public files come from the mounted volume, not from winstate.
source "$(dirname "$0")/common.bash"

X=${WS_SHARED:-}/usmt-xml
[ -n "${WS_SHARED:-}" ] && [ -f "$X/MigDocs.xml" ] && [ -f "$X/MigUser.xml" ] &&
	[ -f "$X/MigApp.xml" ] || skip "Microsoft's MigDocs/MigUser/MigApp are not in \$WS_SHARED/usmt-xml"
for t in hivexregedit hivexget ntfs-3g; do
	command -v $t >/dev/null || fail "$t is not installed (make deps installs it)"
done
vol=$(fixture volume.img)
RULES=(--rules "$X/MigDocs.xml" --rules "$X/MigUser.xml" --rules "$X/MigApp.xml")

# ---- the degraded Windows: SOFTWARE without the values the resolver reads
cp --sparse=always "$vol" "$WORK/complete.img"
cp --sparse=always "$vol" "$WORK/degraded.img"
mnt "$WORK/degraded.img" "$WORK/m" rw
cp "$WORK/m/Windows/System32/config/SOFTWARE" "$WORK/SOFTWARE"
cat >"$WORK/strip.reg" <<'EOF'
Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion]
"SystemRoot"=-

[HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList]
"ProfilesDirectory"=-
"Public"=-
"Default"=-
"ProgramData"=-

[HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion]
"ProgramFilesDir"=-
"ProgramFilesDir (x86)"=-
"CommonFilesDir"=-

[-HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Explorer\Shell Folders]

[-HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Explorer\User Shell Folders]
EOF
hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SOFTWARE' "$WORK/SOFTWARE" "$WORK/strip.reg" ||
	fail "hivexregedit could not edit the SOFTWARE copy"
for kv in 'Microsoft\Windows NT\CurrentVersion|SystemRoot' \
	'Microsoft\Windows NT\CurrentVersion\ProfileList|ProfilesDirectory' \
	'Microsoft\Windows NT\CurrentVersion\ProfileList|Public' \
	'Microsoft\Windows\CurrentVersion|ProgramFilesDir'; do
	hivexget "$WORK/SOFTWARE" "${kv%|*}" "${kv#*|}" >/dev/null 2>&1 &&
		fail "the edited hive still has ${kv#*|}"
done
hivexget "$WORK/SOFTWARE" 'Microsoft\Windows NT\CurrentVersion' CurrentBuild >/dev/null ||
	fail "the edited hive lost CurrentBuild"
cp "$WORK/SOFTWARE" "$WORK/m/Windows/System32/config/SOFTWARE"
umnt "$WORK/m"

# ---- the Public files the fixture holds, read through the ntfs-3g driver
mnt "$WORK/complete.img" "$WORK/c"
mapfile -t PUBLIC < <(cd "$WORK/c" && find Users/Public/Desktop Users/Public/Documents \
	Users/Public/Pictures Users/Public/Downloads -type f ! -iname desktop.ini | sort)
umnt "$WORK/c"
[ "${#PUBLIC[@]}" -ge 4 ] || fail "the fixture should have a file in each Public folder: ${PUBLIC[*]}"

# ---- one variable table for scan and explain, defaults standing in
# (compared case-blind: the fixture's hive says C:\WINDOWS, as many real ones do)
run 0 "$WS_BIN" explain --vars "$WORK/degraded.img" --user alice
DVARS=$(tr a-z A-Z <<<"$OUT")
run 0 "$WS_BIN" explain --vars "$WORK/complete.img" --user alice
CVARS=$(tr a-z A-Z <<<"$OUT")
[ "$DVARS" = "$CVARS" ] || fail "the defaults differ from the complete Windows' values: $(diff <(echo "$CVARS") <(echo "$DVARS"))"
run 0 "$WS_BIN" explain -v --vars "$WORK/degraded.img" --system-only
contains "$ERR" "Windows' defaults stand in"
contains "$ERR" "%PROFILESFOLDER% = C:\\Users"
contains "$ERR" "%SYSTEMROOT% = C:\\Windows"
run 0 "$WS_BIN" explain -v --vars "$WORK/complete.img" --system-only
lacks "$ERR" "%PROFILESFOLDER% ="
contains "$OUT" "%SYSTEMROOT%=C:\\WINDOWS"   # the hive's own spelling wins over the default

# Every variable Microsoft's files use (less those their <environment> blocks
# define) resolves in the user context, and in the system context all but
# the user's own folders, which USMT defines only per user.
USER_ONLY=" $(echo USERPROFILE APPDATA CSIDL_APPDATA CSIDL_LOCAL_APPDATA CSIDL_PERSONAL \
	CSIDL_MYDOCUMENTS CSIDL_MYMUSIC CSIDL_MYPICTURES CSIDL_MYVIDEO CSIDL_DESKTOP CSIDL_FAVORITES \
	CSIDL_STARTMENU CSIDL_VIRTUALSTORE_PROGRAMFILES 'CSIDL_VIRTUALSTORE_PROGRAMFILES(X86)' \
	CSIDL_VIRTUALSTORE_COMMONPROGRAMFILES 'CSIDL_VIRTUALSTORE_COMMONPROGRAMFILES(X86)') "
defined=$(grep -ohi '<variable name="[^"]*"' "$X"/Mig{Docs,User,App}.xml | sed 's/.*name=" *//;s/ *"$//' |
	tr a-z A-Z | sort -u)
used=$(grep -oh '%[A-Za-z_][A-Za-z0-9_()]*%' "$X"/Mig{Docs,User,App}.xml | tr -d % | tr a-z A-Z | sort -u)
needed=$(comm -23 <(echo "$used") <(echo "$defined"))
[ "$(wc -l <<<"$needed")" -ge 20 ] || fail "too few variables found in Microsoft's files: $needed"
for img in complete degraded; do
	run 0 "$WS_BIN" explain --vars "$WORK/$img.img" --user alice
	sys=$(sed -n '/^system context/,/^user context/p' <<<"$OUT" | tr a-z A-Z)
	usr=$(sed -n '/^user context/,$p' <<<"$OUT" | tr a-z A-Z)
	while read -r v; do
		grep -qF "  %$v%=" <<<"$usr" || fail "$img: %$v% does not resolve in the user context"
		if [[ "$USER_ONLY" == *" $v "* ]]; then
			grep -qF "  %$v%=" <<<"$sys" && fail "$img: the user folder %$v% is defined in the system context"
		else
			grep -qF "  %$v%=" <<<"$sys" || fail "$img: %$v% does not resolve in the system context"
		fi
	done <<<"$needed"
done

# ---- MigDocs + MigUser + MigApp: the same capture on both Windows
capture() { # IMAGE NAME USER-ARGS...
	local img=$1 name=$2; shift 2
	run 0 "$WS_BIN" scan "$WORK/$img.img" "$WORK/st-$name" "${RULES[@]}" "$@" \
		--listfiles "$WORK/$name.list" --log "$WORK/$name.log"
	lacks "$ERR" "is not defined on this Windows"
	sort "$WORK/$name.list" >"$WORK/$name.sorted"
}
capture complete c-none --ue '*\*'
capture degraded d-none --ue '*\*'
capture complete c-all --all --efs skip
capture degraded d-all --all --efs skip
for sel in none all; do
	diff "$WORK/c-$sel.sorted" "$WORK/d-$sel.sorted" >"$WORK/$sel.diff" ||
		fail "selection $sel: the degraded Windows captures other files: $(head -20 "$WORK/$sel.diff")"
done
grep -q "Windows' defaults stand in" "$WORK/d-all.log" || fail "the fallback is not in scan's log"
grep -q "Windows' defaults stand in" "$WORK/c-all.log" && fail "the complete Windows needed a default"
# Nothing of the excluded users, no hive, no Temp or INetCache for the system
for bad in '\NTUSER.DAT' '\AppData\Local\Temp\' '\INetCache\' 'C:\Users\alice\Documents\'; do
	grep -qiF "$bad" "$WORK/d-none.sorted" && fail "/ue:*\\* captured $bad: $(grep -iF "$bad" "$WORK/d-none.sorted" | head -3)"
done
for f in "${PUBLIC[@]}"; do
	w="C:\\${f//\//\\}"
	grep -qixF "$w" "$WORK/c-none.sorted" || fail "MigDocs did not capture $w"
done

# ---- an undefined variable: reported, includes dropped, excludes take more
cat >"$WORK/undef.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://example.com/winstate/test/undef">
  <component type="Documents" context="System">
    <displayName>Public with an unknown variable</displayName>
    <role role="Data">
      <rules>
        <include>
          <objectSet>
            <pattern type="File">%PUBLIC%\* [*]</pattern>
            <pattern type="File">%WS_NO_SUCH_FOLDER%\* [*]</pattern>
          </objectSet>
        </include>
        <exclude>
          <objectSet>
            <pattern type="File">%WS_NO_SUCH_ROOT%\Pictures\* [*]</pattern>
          </objectSet>
        </exclude>
      </rules>
    </role>
  </component>
</migration>
EOF
run 0 "$WS_BIN" scan "$WORK/complete.img" "$WORK/st-undef" --rules "$WORK/undef.xml" --ue '*\*' \
	--listfiles "$WORK/undef.list" --json
contains "$ERR" "undef.xml:10: %WS_NO_SUCH_FOLDER% is not defined on this Windows"
contains "$ERR" "is dropped"
contains "$ERR" "undef.xml:15: %WS_NO_SUCH_ROOT% is not defined on this Windows"
contains "$ERR" "kept as \"*\\Pictures\\* [*]\""
rep=$OUT
python3 - "$rep" <<'EOF' || fail "report.json: unresolved_variables is not as expected: $rep"
import json, sys
r = json.loads(sys.argv[1])
u = {(x["line"], x["variable"]): x for x in r["unresolved_variables"]}
inc, exc = u[(10, "WS_NO_SUCH_FOLDER")], u[(15, "WS_NO_SUCH_ROOT")]
assert inc["file"].endswith("undef.xml") and inc["rule"] == "include" and inc["action"] == "dropped"
assert exc["rule"] == "exclude" and exc["action"] == "excludes more", exc
assert exc["kept_as"] == "*\\Pictures\\* [*]" and exc["contexts"] == ["system"], exc
assert len(u) == 2, u
EOF
grep -qiF 'C:\Users\Public\Documents\shared-readme.txt' "$WORK/undef.list" ||
	fail "the include that resolves was lost"
grep -qiF '\Pictures\' "$WORK/undef.list" && fail "the unresolved exclude let Pictures through"

# explain says the same, and shows the conservative exclude deciding
run 0 "$WS_BIN" explain --rules "$WORK/undef.xml" --system-only "$WORK/complete.img" \
	'C:\Users\Public\Pictures\office-party.jpg' 'C:\Users\Public\Documents\shared-readme.txt'
contains "$ERR" "undef.xml:15: %WS_NO_SUCH_ROOT% is not defined (system context)"
contains "$ERR" "undef.xml:10: %WS_NO_SUCH_FOLDER% is not defined (system context): the include pattern \"%WS_NO_SUCH_FOLDER%\* [*]\" is dropped"
contains "$OUT" "system context: EXCLUDED"
contains "$OUT" "%WS_NO_SUCH_ROOT% is not defined here: this exclude matches anything in its place"
contains "$OUT" "system context: INCLUDED"

# ---- two rule files with one urlid: the second is ignored, and said so
sed 's#urlid="[^"]*"#urlid="http://www.microsoft.com/migration/1.0/migxmlext/migdocs"#' \
	"$WORK/undef.xml" >"$WORK/same-urlid.xml"
run 1 "$WS_BIN" rules check "$X/MigDocs.xml" "$WORK/same-urlid.xml"
contains "$OUT" "same-urlid.xml:2: warning: urlid \"http://www.microsoft.com/migration/1.0/migxmlext/migdocs\" is also the urlid of $X/MigDocs.xml"
contains "$OUT" "ignore $WORK/same-urlid.xml"
run 0 "$WS_BIN" rules check "$X/MigDocs.xml" "$WORK/undef.xml"
lacks "$OUT" "also the urlid"
run 0 "$WS_BIN" scan "$WORK/complete.img" "$WORK/st-dup" --rules "$X/MigDocs.xml" \
	--rules "$WORK/same-urlid.xml" --ue '*\*' --json
contains "$ERR" "$WORK/same-urlid.xml: its urlid \"http://www.microsoft.com/migration/1.0/migxmlext/migdocs\" is the same as $X/MigDocs.xml's"
python3 - "$OUT" "$WORK/same-urlid.xml" "$X/MigDocs.xml" <<'EOF' || fail "report.json: ignored_rule_files wrong: $OUT"
import json, sys
g = json.loads(sys.argv[1])["ignored_rule_files"]
assert len(g) == 1 and g[0]["file"] == sys.argv[2] and g[0]["kept"] == sys.argv[3], g
EOF
# the ignored file's unknown variables are not reported: it was never compiled
lacks "$ERR" "WS_NO_SUCH_FOLDER"
run 0 "$WS_BIN" explain --rules "$X/MigDocs.xml" --rules "$WORK/same-urlid.xml" --system-only \
	'C:\Users\Public\Documents\a.txt'
contains "$ERR" "$WORK/same-urlid.xml is ignored: its urlid"
run 0 "$WS_BIN" genconfig --rules "$X/MigDocs.xml" --rules "$WORK/same-urlid.xml"
contains "$ERR" "$WORK/same-urlid.xml is left out"
lacks "$OUT" "Public with an unknown variable"
echo "rules_vars: ok"
