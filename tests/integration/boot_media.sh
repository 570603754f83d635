#!/usr/bin/env bash
# The hybrid ISO and the FAT32 stick boot to the agent's menu on BIOS
# (SeaBIOS) and UEFI (OVMF), from CD and from a USB stick: the menu text must
# show on the serial console.  Two guests run at a time.
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/boot_common.bash"

[ -f "$IMAGE/winstate.iso" ] || skip "no $IMAGE/winstate.iso (make image)"
[ -f "$OVMF_CODE" ] || skip "no UEFI firmware $OVMF_CODE (Debian package ovmf)"
win=$(fixture win.img)
MENU="2) Capture users (scan) into the store"

uefi() { # a private copy of the variable store per guest
	cp "$OVMF_VARS" "$WORK/$1.vars"
	echo -drive "if=pflash,format=raw,readonly=on,file=$OVMF_CODE" -drive "if=pflash,format=raw,file=$WORK/$1.vars"
}
cd_drive() { echo -device ahci,id=cdahci -drive "if=none,id=cd,file=$IMAGE/winstate.iso,format=raw,media=cdrom,readonly=on" -device ide-cd,drive=cd,bus=cdahci.0,bootindex=0; }
stick() { # a throw-away overlay, so the images stay as built
	qemu-img create -q -f qcow2 -b "$1" -F raw "$WORK/$2.stick.qcow2"
	usb_disk "$2" "$WORK/$2.stick.qcow2" qcow2 0
}
check_menu() { # NAME: the menu came up, and it found Windows on the disk
	wait_text "$1" "$MENU"
	contains "$SERIAL" "winstate boot image - offline Windows user-state migration"
	contains "$SERIAL" "Windows: /dev/vda:3 (clean), computer WS-PC01"
	contains "$SERIAL" "Settings: /dev/"
	echo "$1: menu after $(ready_time) s"
}

pairs=(
	"iso-bios-cd" "iso-uefi-cd"
	"iso-bios-usb" "iso-uefi-usb"
	"stick-bios-usb" "stick-uefi-usb"
)
for ((i = 0; i < ${#pairs[@]}; i += 2)); do
	for name in "${pairs[i]}" "${pairs[i + 1]}"; do
		d=$(overlay "$win" "$name")
		case $name in
		iso-*-cd) media=$(cd_drive) ;;
		iso-*-usb) media=$(stick "$IMAGE/winstate.iso" "$name") ;;
		stick-*) media=$(stick "$IMAGE/winstate-usb.img" "$name") ;;
		esac
		fw=
		case $name in *-uefi-*) fw=$(uefi "$name") ;; esac
		start_vm "$name" $fw $media $(virtio_disk w "$d")
	done
	check_menu "${pairs[i]}"
	check_menu "${pairs[i + 1]}"
done
for name in "${pairs[@]}"; do unchanged "$WORK/$name.qcow2"; done
