#!/usr/bin/env bash
# Unattended capture from the boot image: winstate.mode=scan into a folder on
# a FAT32 store disk found by its label; on this machine the store must then
# verify, list the fixture's users, and sit beside the log and the report.
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/boot_common.bash"

command -v mcopy >/dev/null || skip "mcopy is not installed (Debian package mtools)"
win=$(fixture win.img)
source "$WS_FIXTURES/fixture.env"
# Only once capture exists: the host's own winstate says whether it does.
"$WS_BIN" scan "$win" "$WORK/probe" --help >"$WORK/probe.out" 2>&1
grep -q "not part of this build" "$WORK/probe.out" && skip "winstate scan is not implemented in this build yet"

truncate -s 256M "$WORK/store.img"
mkfs.vfat -F 32 -n MIGSTORE "$WORK/store.img" >/dev/null || fail "mkfs.vfat"
d=$(overlay "$win" win)
# (the fixture has an EFS file, which the default --efs abort would stop on;
# the quoted word also checks that winstate.args keeps its spaces)
kernel_vm scan "winstate.mode=scan winstate.store=LABEL=MIGSTORE:/stores/%COMPUTERNAME% \"winstate.args=--efs skip\" winstate.after=poweroff" \
	$(virtio_disk w "$d") $(ahci_disk store "$WORK/store.img" raw)
wait_vm scan
code=$(sed -n 's/^WINSTATE-RESULT: mode=scan exit=\([0-9]*\)$/\1/p' <<<"$SERIAL")
[ "$code" = 0 ] || [ "$code" = 1 ] || fail "scan from the boot image exited ${code:-without a result line}: $(tail -c 3000 <<<"$SERIAL")"
unchanged "$d"
contains "$SERIAL" "Running: winstate scan /dev/vda:3 /run/winstate/store/stores/$COMPUTER_NAME --efs skip"
contains "$SERIAL" " Log:     LABEL=MIGSTORE:/stores/$COMPUTER_NAME.scan.log"
mcopy -s -n -i "$WORK/store.img" ::/stores "$WORK/" || fail "could not copy the store off the FAT disk"
store=$WORK/stores/$COMPUTER_NAME
[ -d "$store" ] || fail "no store folder $store: $(ls -R "$WORK/stores" | head)"
[ -f "$store.scan.log" ] && [ -f "$store.scan.report.txt" ] || fail "no log and report beside the store"
contains "$(cat "$store.scan.report.txt")" "exit:     $code"
run 0 "$WS_BIN" verify "$store"
run 0 "$WS_BIN" list "$store"
contains "$OUT" "$ALICE_NAME"
echo "scan from the boot image: exit $code, store verifies"
