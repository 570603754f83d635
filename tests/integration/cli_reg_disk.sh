#!/usr/bin/env bash
# `winstate reg DISK KEY` reads the offline Windows' hives through our code
# (copied out through ntfs/, replayed when dirty); every value agrees with
# hivex's own hivexget on the fixture builder's copies of the same hives.
. "$(dirname "$0")/common.bash"

disk=$(fixture win.img)
. "$(fixture fixture.env)"
hives=$(fixture hives)

# compare FULLKEY HIVEFILE KEY VALUE [--user U]
compare() {
	local full=$1 file=$2 key=$3 value=$4; shift 4
	run 0 "$WS_BIN" reg "$disk" "$@" --json "$full"
	local ours theirs
	ours=$(python3 -c 'import json,sys; d=json.load(sys.stdin); v=[x for k in d["keys"] for x in k["values"] if x["name"].lower()==sys.argv[1].lower()]; print(v[0]["data"] if v else "<absent>")' "$value" <<<"$OUT") \
		|| fail "reg --json output: $OUT"
	theirs=$(hivexget "$file" "$key" "$value") || fail "hivexget $file $key $value"
	[ "$ours" = "$theirs" ] || fail "$full [$value]: ours '$ours', hivexget '$theirs'"
}

compare 'HKLM\Software\Microsoft\Windows NT\CurrentVersion' "$hives/SOFTWARE" 'Microsoft\Windows NT\CurrentVersion' ProductName
compare 'HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion' "$hives/SOFTWARE" 'Microsoft\Windows NT\CurrentVersion' CurrentBuild
compare 'HKLM\System\CurrentControlSet\Control\ComputerName\ComputerName' "$hives/SYSTEM" 'ControlSet001\Control\ComputerName\ComputerName' ComputerName
compare 'HKCU\Control Panel\Desktop' "$hives/NTUSER-bob.DAT" 'Control Panel\Desktop' Wallpaper --user bob
compare "HKU\\$ALICE_SID\\Control Panel\\Desktop" "$hives/NTUSER-alice.DAT" 'Control Panel\Desktop' Wallpaper
compare 'HKCU\Software\Microsoft\Windows\CurrentVersion\Explorer\User Shell Folders' "$hives/NTUSER-bob.DAT" 'Software\Microsoft\Windows\CurrentVersion\Explorer\User Shell Folders' Personal --user "$BOB_SID"

# Bad input: a sentence and the documented code.
run 2 "$WS_BIN" reg "$disk" 'HKCU\Control Panel'
contains "$ERR" "--user"
run 3 "$WS_BIN" reg "$disk" --user nobody 'HKCU\Control Panel'
contains "$ERR" 'no profile for "nobody"'
run 4 "$WS_BIN" reg "$disk" 'HKLM\Software\No\Such\Key'
run 3 "$WS_BIN" reg "$(fixture bitlocker.img)" 'HKLM\Software'
contains "$ERR" "BitLocker"
run 2 "$WS_BIN" reg
exit 0
