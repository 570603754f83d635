#!/usr/bin/env bash
# PC refresh from the boot image, USMT's offline refresh path: boot 1 captures
# the users into a hard-link store on the Windows volume itself
# (winstate.store=C:\MigStore, winstate.args=/hardlink /nocompress: scanstate,
# nothing copied); this machine then "reinstalls Windows" on that partition
# (tests/fixtures/reinstall.sh: the old tree moves into Windows.old, the store
# stays); boot 2 restores from the same store with loadstate /hardlink.
# Checked here through the ntfs-3g driver and hivex's tools: every captured
# file of the restored users is in the new profile with its content and is
# the same MFT record (linked, not copied), descriptors carry the mapped
# SIDs, the settings are in the new hives.  Also three refusals: a store on
# the Windows volume without /hardlink, a hard-link store anywhere else, a
# store disk (found by label) that is the Windows volume.
# (/efs:skip: `winstate verify` cannot read an EFS file linked with
# /efs:hardlink and calls it damaged.)
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/boot_common.bash"

command -v hivexget >/dev/null || skip "hivexget is not installed (Debian package libhivex-bin)"
win=$(fixture win.img)
source "$WS_FIXTURES/fixture.env"
NEW_ALICE=S-1-5-21-3777777777-3888888888-399999999-1001
NEW_BOB=S-1-5-21-3777777777-3888888888-399999999-1002
A=winstate.after=poweroff

cp --sparse=always "$win" "$WORK/pc.img"
kernel_vm scan "winstate.mode=scan winstate.store=C:\\MigStore \"winstate.args=/hardlink /nocompress /efs:skip\" $A" \
	$(virtio_disk w "$WORK/pc.img" raw)
# beside it, the first refusal (nothing may be written)
d1=$(overlay "$win" nolink)
kernel_vm nolink "winstate.mode=scan winstate.store=C:\\MigStore $A" $(virtio_disk w "$d1")

wait_vm scan
expect_result scan scan 0
scan_ready=$(ready_time)
contains "$SERIAL" "Store: C:\\MigStore (a hard-link store on the Windows volume /dev/vda:3, folder MigStore; nothing is mounted)"
contains "$SERIAL" "Running: scanstate MigStore /offlinewindir:/dev/vda:3 /hardlink /nocompress /efs:skip"
contains "$SERIAL" "nothing copied"
contains "$SERIAL" " Log:     /run/winstate/winstate-scan.log (in memory only"
run 0 "$WS_BIN" verify --target "$WORK/pc.img:3" MigStore
contains "$OUT" "0 damaged"
"$WS_BIN" list --target "$WORK/pc.img:3" MigStore --json >"$WORK/list.json" || fail "winstate list of the hard-link store"

wait_vm nolink
expect_result nolink scan 2
contains "$SERIAL" "winstate.store=C:\\MigStore is on the Windows volume, where only a hard-link store may go"
contains "$SERIAL" "add /hardlink /nocompress"
unchanged "$d1"

# Windows is reinstalled; meanwhile the second refusal
d2=$(overlay "$win" elsewhere)
truncate -s 64M "$WORK/store.img"
mkfs.vfat -n MIGSTORE "$WORK/store.img" >/dev/null || fail "mkfs.vfat"
store_before=$(sha256sum <"$WORK/store.img")
kernel_vm elsewhere "winstate.mode=scan winstate.store=LABEL=MIGSTORE:/s \"winstate.args=--hardlink --nocompress\" $A" \
	$(virtio_disk w "$d2") $(ahci_disk s "$WORK/store.img" raw)
WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" "$WORK/pc.img" 3 >"$WORK/reinstall.log" 2>&1 ||
	fail "reinstall.sh: $(tail -5 "$WORK/reinstall.log")"
wait_vm elsewhere
expect_result elsewhere scan 2
contains "$SERIAL" "A hard-link store (/hardlink in winstate.args) links the files where they are, so it must be on the Windows volume itself: set winstate.store=C:\\MigStore (not LABEL=MIGSTORE:/s)"
unchanged "$d2"
[ "$(sha256sum <"$WORK/store.img")" = "$store_before" ] || fail "the refused store disk was written"

# The restore into the new Windows: local accounts get their new SIDs.
# Beside it the third refusal: a store disk (by label) that is the Windows volume.
d3=$(overlay "$win" samevol)
kernel_vm samevol "winstate.mode=scan winstate.store=LABEL=Windows:/stores $A" $(virtio_disk w "$d3")
kernel_vm load "winstate.mode=load winstate.store=C:\\MigStore \"winstate.args=/hardlink /nocompress /mu:alice:$NEW_ALICE /mu:WS-PC01\\bob:$NEW_BOB /ue:olduser /ue:erin /ue:real*\" $A" \
	$(virtio_disk w "$WORK/pc.img" raw)
wait_vm load
expect_result load load 0
load_ready=$(ready_time)
contains "$SERIAL" "Running: loadstate MigStore /target:/dev/vda:3 /hardlink /nocompress /mu:alice:$NEW_ALICE"
contains "$SERIAL" "alice                    -> Users/alice (new profile)"
wait_vm samevol
expect_result samevol scan 3
contains "$SERIAL" "The store LABEL=Windows:/stores is on the Windows volume (/dev/vda3); put it on another disk (only a hard-link store goes on the Windows volume: winstate.store=C:\MigStore"
unchanged "$d3"

partition "$WORK/pc.img" 3 "$WORK/vol.img"
mnt "$WORK/vol.img" "$WORK/t" ro,streams_interface=xattr
check_restored "$WORK/list.json" "$WORK/t/Windows.old" "$WORK/t" linked "$ALICE_SID" "$BOB_SID" "$CAROL_SID" "$DAVE_SID"
# descriptors: alice's old SID mapped to her new one
acl=$(getfattr --absolute-names -h -e hex -n system.ntfs_acl "$WORK/t/$READONLY_FILE" | sed -n 's/^system.ntfs_acl=0x//p')
contains "$acl" "$(sidhex "$NEW_ALICE")"
lacks "$acl" "$(sidhex "$ALICE_SID")"
# settings in the new hives, the profiles in the new ProfileList
for u in alice bob carol; do
	want=$(hivexget "$WORK/t/Windows.old/Users/$u/NTUSER.DAT" 'Control Panel\Desktop' Wallpaper)
	got=$(hivexget "$WORK/t/Users/$u/NTUSER.DAT" 'Control Panel\Desktop' Wallpaper) || fail "$u: no Wallpaper in the new NTUSER.DAT"
	[ -n "$want" ] && [ "$want" = "$got" ] || fail "$u: Wallpaper '$got', captured '$want'"
done
got=$(hivexget "$WORK/t/Windows/System32/config/SOFTWARE" \
	"Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\$NEW_ALICE" ProfileImagePath) || fail "no ProfileList entry for alice's new SID"
[ "$got" = 'C:\Users\alice' ] || fail "ProfileImagePath: $got"
[ ! -e "$WORK/t/Users/olduser" ] || fail "olduser was excluded (/ue) but has a profile"
[ -d "$WORK/t/MigStore/USMT" ] || fail "the hard-link store should stay until usmtutils /rd"
umnt "$WORK/t"
echo "refresh through the boot image: hard-link capture and restore, exit 0 and 0; ready after ${scan_ready} s and ${load_ready} s"
