#!/usr/bin/env bash
# The boot image finds the Windows disk by itself and lists its users
# (winstate.mode=users), with a store disk attached that it must not touch;
# prints the result line and powers off.  Also records boot-to-agent time.
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/boot_common.bash"

win=$(fixture win.img)
source "$WS_FIXTURES/fixture.env"
disk=$(overlay "$win" win)
truncate -s 64M "$WORK/store.img"
mkfs.ext4 -q -L MIGSTORE "$WORK/store.img" || fail "mkfs.ext4"
before=$(sha256sum <"$WORK/store.img")

kernel_vm users "winstate.mode=users winstate.after=poweroff" \
	$(virtio_disk win "$disk") $(ahci_disk store "$WORK/store.img" raw)
wait_vm users
expect_result users users 0
contains "$SERIAL" "Windows: /dev/vda:3 (clean)"
contains "$SERIAL" "computer $COMPUTER_NAME"
for key in ALICE BOB CAROL DAVE; do
	eval "sid=\$${key}_SID name=\$${key}_NAME"
	grep -qaE "^$sid +$name " <<<"$SERIAL" || fail "user $name ($sid) is not in the list: $SERIAL"
done
contains "$SERIAL" "Powering off."
unchanged "$disk"
[ "$(sha256sum <"$WORK/store.img")" = "$before" ] || fail "the store disk was written in users mode"
echo "boot to agent: $(ready_time) s (TCG)"
