#!/usr/bin/env bash
# PC replacement from the boot image: boot 1 captures the old PC (disk A, the
# GPT fixture) into a compressed store on an NTFS store disk found by its
# label; boot 2 restores it onto the new PC (disk B: the MBR fixture after
# reinstall.sh, a freshly installed Windows whose SAM does not know the old
# accounts; with --machine B when reinstall.sh has it: another computer name
# and machine SID, no Windows.old) with the same store disk attached, mapping
# the local accounts to SIDs of the new PC (native option spelling).  Checked
# here through the ntfs-3g driver and hivex's tools: every captured file of
# the restored users is in the new profiles with its content, times,
# attributes and streams, descriptors carry the new SIDs, the settings
# are in the new hives; disk A is untouched; the store verifies; the logs and
# reports of both runs sit beside the store.
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/boot_common.bash"

command -v hivexget >/dev/null || skip "hivexget is not installed (Debian package libhivex-bin)"
command -v mkntfs >/dev/null || skip "mkntfs is not installed (Debian package ntfs-3g)"
win=$(fixture win.img)
mbr=$(fixture mbr.img)
vol=$(fixture volume.img) # the same volume as win.img's partition 3: the captured tree
source "$WS_FIXTURES/fixture.env"
NEW_ALICE=S-1-5-21-3777777777-3888888888-399999999-1001
NEW_BOB=${MACHINE_B_BOB_SID:-S-1-5-21-3777777777-3888888888-399999999-1002}
A=winstate.after=poweroff

truncate -s 512M "$WORK/store.img"
mkntfs -q -F -Q -L MIGSTORE "$WORK/store.img" >/dev/null 2>&1 || fail "mkntfs of the store disk"
a=$(overlay "$win" a)
kernel_vm scan "winstate.mode=scan winstate.store=LABEL=MIGSTORE:/stores/%COMPUTERNAME% \"winstate.args=--efs skip\" $A" \
	$(virtio_disk a "$a") $(ahci_disk s "$WORK/store.img" raw)
# meanwhile the new PC gets its fresh Windows (another machine when
# reinstall.sh can make one: its own name, machine SID and accounts, no
# Windows.old)
cp --sparse=always "$mbr" "$WORK/b.img"
machine=()
grep -q -- '--machine B' "$WS_TOP/tests/fixtures/reinstall.sh" && machine=(--machine B)
WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" "${machine[@]}" "$WORK/b.img" 1 >"$WORK/reinstall.log" 2>&1 ||
	fail "reinstall.sh: $(tail -5 "$WORK/reinstall.log")"
wait_vm scan
expect_result scan scan 0
scan_ready=$(ready_time)
contains "$SERIAL" "Store: LABEL=MIGSTORE:/stores/$COMPUTER_NAME (mounted at /run/winstate/store/stores/$COMPUTER_NAME)"
contains "$SERIAL" "Running: winstate scan /dev/vda:3 /run/winstate/store/stores/$COMPUTER_NAME --efs skip"
unchanged "$a"

kernel_vm load "winstate.mode=load winstate.store=LABEL=MIGSTORE:/stores/$COMPUTER_NAME \"winstate.args=--mu alice:$NEW_ALICE --mu WS-PC01\\bob:$NEW_BOB --ue olduser --ue erin --ue real*\" $A" \
	$(virtio_disk b "$WORK/b.img" raw) $(ahci_disk s "$WORK/store.img" raw)
wait_vm load
expect_result load load 0
load_ready=$(ready_time)
contains "$SERIAL" "Windows: /dev/vda:1 (clean)"
contains "$SERIAL" "Running: winstate load /run/winstate/store/stores/$COMPUTER_NAME /dev/vda:1 --mu alice:$NEW_ALICE"
contains "$SERIAL" "alice                    -> Users/alice (new profile)"

# the store, its logs and reports
mnt "$WORK/store.img" "$WORK/s"
store=$WORK/s/stores/$COMPUTER_NAME
run 0 "$WS_BIN" verify "$store"
contains "$OUT" "0 damaged"
"$WS_BIN" list "$store" --json >"$WORK/list.json" || fail "winstate list of the store"
for m in scan load; do
	[ -f "$store.$m.log" ] && [ -f "$store.$m.report.txt" ] || fail "no $m log and report beside the store: $(ls "$WORK/s/stores")"
	contains "$(cat "$store.$m.report.txt")" "exit:     0 (done)"
done
contains "$(cat "$store.load.report.txt")" "windows:  /dev/vda:1 (clean)"
umnt "$WORK/s"

# the new PC
partition "$WORK/b.img" 1 "$WORK/bvol.img"
mnt "$WORK/bvol.img" "$WORK/t" ro,streams_interface=xattr
mnt "$vol" "$WORK/src" ro,streams_interface=xattr
check_restored "$WORK/list.json" "$WORK/src" "$WORK/t" copied "$ALICE_SID" "$BOB_SID" "$CAROL_SID" "$DAVE_SID"
acl=$(getfattr --absolute-names -h -e hex -n system.ntfs_acl "$WORK/t/$READONLY_FILE" | sed -n 's/^system.ntfs_acl=0x//p')
contains "$acl" "$(sidhex "$NEW_ALICE")"
lacks "$acl" "$(sidhex "$ALICE_SID")"
for f in "$ZONE_FILE" "$READONLY_FILE" "$HIDDEN_FILE"; do
	for x in system.ntfs_times system.ntfs_attrib user.Zone.Identifier; do
		[ "$x" = user.Zone.Identifier ] && [ "$f" != "$ZONE_FILE" ] && continue
		want=$(getfattr --absolute-names -h -e hex -n $x "$WORK/src/$f" | tail -n +2)
		got=$(getfattr --absolute-names -h -e hex -n $x "$WORK/t/$f" | tail -n +2)
		[ -n "$want" ] && [ "$want" = "$got" ] || fail "$f: $x is '$got', captured '$want'"
	done
done
for u in alice bob carol; do
	want=$(hivexget "$WORK/src/Users/$u/NTUSER.DAT" 'Control Panel\Desktop' Wallpaper)
	got=$(hivexget "$WORK/t/Users/$u/NTUSER.DAT" 'Control Panel\Desktop' Wallpaper) || fail "$u: no Wallpaper in the new NTUSER.DAT"
	[ -n "$want" ] && [ "$want" = "$got" ] || fail "$u: Wallpaper '$got', captured '$want'"
done
got=$(hivexget "$WORK/t/Windows/System32/config/SOFTWARE" \
	"Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\$NEW_BOB" ProfileImagePath) || fail "no ProfileList entry for bob's new SID"
[ "$got" = 'C:\Users\bob' ] || fail "ProfileImagePath: $got"
[ ! -e "$WORK/t/Users/olduser" ] || fail "olduser was excluded (--ue) but has a profile"
umnt "$WORK/src"
umnt "$WORK/t"
echo "replacement through the boot image: capture of disk A, restore onto disk B, exit 0 and 0; ready after ${scan_ready} s and ${load_ready} s"
