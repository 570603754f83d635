#!/usr/bin/env bash
# Bad configurations and unusable disks: each boot prints a sentence saying
# what is wrong, ends with a non-zero result line, powers off, and writes
# nothing to any disk.  Two guests run at a time.
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/boot_common.bash"

win=$(fixture win.img)
hib=$(fixture hibernated.img)
bitl=$(fixture bitlocker.img)
truncate -s 64M "$WORK/blank.img"
A="winstate.after=poweroff"

# unknown mode / no Windows at all
d1=$(overlay "$win" unknown)
kernel_vm unknown "winstate.mode=frobnicate $A" $(virtio_disk w "$d1")
d2=$(overlay "$WORK/blank.img" blank)
kernel_vm blank "winstate.mode=users $A" $(virtio_disk w "$d2")
wait_vm unknown
expect_result unknown frobnicate 2
contains "$SERIAL" "winstate.mode=frobnicate is not a mode of this image"
wait_vm blank
expect_result blank users 3
contains "$SERIAL" "No Windows installation found on any disk (looked at: vda"
unchanged "$d1"; unchanged "$d2"

# two Windows disks / BitLocker
d3=$(overlay "$win" two-a); d4=$(overlay "$win" two-b)
kernel_vm two "winstate.mode=users $A" $(virtio_disk a "$d3") $(ahci_disk b "$d4")
d5=$(overlay "$bitl" bitlocker)
kernel_vm bitlocker "winstate.mode=users $A" $(virtio_disk w "$d5")
wait_vm two
expect_result two users 3
contains "$SERIAL" "Found 2 Windows installations: /dev/sda:3 /dev/vda:3. This image will not guess"
wait_vm bitlocker
expect_result bitlocker users 3
contains "$SERIAL" "No readable Windows found: BitLocker locks /dev/vda"
unchanged "$d3"; unchanged "$d4"; unchanged "$d5"

# hibernated (Fast Startup) / store disk that is not there
d6=$(overlay "$hib" hibernated)
kernel_vm hibernated "winstate.mode=scan winstate.store=LABEL=MIGSTORE:/s $A" $(virtio_disk w "$d6")
d7=$(overlay "$win" nostore)
truncate -s 64M "$WORK/other.img"
mkfs.vfat -n OTHER "$WORK/other.img" >/dev/null || fail "mkfs.vfat"
other=$(sha256sum <"$WORK/other.img")
kernel_vm nostore "winstate.mode=scan winstate.store=LABEL=MIGSTORE:/stores/%COMPUTERNAME% $A" \
	$(virtio_disk w "$d7") $(ahci_disk o "$WORK/other.img" raw)
wait_vm hibernated
expect_result hibernated scan 3
contains "$SERIAL" "is hibernated (Fast Startup or hibernation)"
contains "$SERIAL" "Shift+Shut down"
wait_vm nostore
expect_result nostore scan 3
contains "$SERIAL" "The store disk LABEL=MIGSTORE is not connected"
unchanged "$d6"; unchanged "$d7"
[ "$(sha256sum <"$WORK/other.img")" = "$other" ] || fail "a disk that is not the store was written"

# network store nobody answers for / a store spelling that means nothing
d8=$(overlay "$win" nfsdown)
kernel_vm nfsdown "winstate.mode=scan winstate.store=nfs://10.0.2.2:9/srv/%COMPUTERNAME% $A" \
	$(virtio_disk w "$d8") -nic user,model=virtio-net-pci
d9=$(overlay "$win" badstore)
kernel_vm badstore "winstate.mode=load winstate.store=/dev/sdb1 $A" $(virtio_disk w "$d9")
wait_vm nfsdown
expect_result nfsdown scan 3
contains "$SERIAL" "Network: eth0 is 10.0.2.15/24"
contains "$SERIAL" "Cannot mount nfs://10.0.2.2:9/srv/WS-PC01: the NFS server 10.0.2.2 does not answer"
wait_vm badstore
expect_result badstore load 3
contains "$SERIAL" "winstate.store=/dev/sdb1 is not understood"
unchanged "$d8"; unchanged "$d9"
