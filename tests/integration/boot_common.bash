# Shared by the boot_*.sh tests (sourced after common.bash): boot the image in
# QEMU without KVM (TCG), read what the guest printed on its serial line.
#
# Disks are qcow2 overlays over the fixture images: whatever the guest would
# write lands in the overlay, and `unchanged OVERLAY` proves it wrote nothing.

IMAGE=${WS_IMAGE:-$WS_BUILD/image}
[ -f "$IMAGE/initrd.img" ] && [ -f "$IMAGE/vmlinuz" ] ||
	skip "no boot image in $IMAGE (make image; the boot tests run in the build that has one)"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (Debian package qemu-system-x86)"
command -v qemu-img >/dev/null || skip "qemu-img is not installed (Debian package qemu-utils)"

BOOT_TIMEOUT=${BOOT_TIMEOUT:-150}
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
BOOT_PIDS=()
declare -A VM_PID

# overlay BASE NAME: a qcow2 over BASE (read-only to QEMU); prints its path.
overlay() {
	qemu-img create -q -f qcow2 -b "$1" -F raw "$WORK/$2.qcow2" || fail "qemu-img create over $1"
	echo "$WORK/$2.qcow2"
}
# unchanged OVERLAY: the guest wrote nothing to the disk behind it.
unchanged() {
	local base
	base=$(qemu-img info --output=json "$1" | sed -n 's/.*"backing-filename": "\([^"]*\)".*/\1/p' | head -n 1)
	qemu-img compare -q -f raw -F qcow2 "$base" "$1" || fail "the guest wrote to $(basename "$base")"
	# nothing allocated in the overlay at all, not even identical bytes
	! qemu-img map --output=json "$1" | grep -q '"depth": 0, [^}]*"data": true' ||
		fail "the guest wrote to $(basename "$base") (overlay has data)"
}

qemu_common() {
	echo -accel tcg -cpu max -m 1024 -smp 1 -nographic -no-reboot -monitor none -display none \
		-nic none
}

# start_vm NAME QEMU_ARGS...: boot in the background, serial to $WORK/NAME.serial.
start_vm() {
	local name=$1; shift
	: >"$WORK/$name.serial"
	# shellcheck disable=SC2046
	timeout "$BOOT_TIMEOUT" qemu-system-x86_64 $(qemu_common) -serial "file:$WORK/$name.serial" \
		"$@" >"$WORK/$name.qemu" 2>&1 &
	BOOT_PIDS+=($!)
	VM_PID[$name]=$!
}

# kernel_vm NAME APPEND QEMU_ARGS...: direct kernel boot of our vmlinuz + initrd.
kernel_vm() {
	local name=$1 append=$2; shift 2
	start_vm "$name" -kernel "$IMAGE/vmlinuz" -initrd "$IMAGE/initrd.img" \
		-append "console=ttyS0,115200n8 loglevel=4 $append" "$@"
}

# wait_vm NAME: wait for the VM to power off (the result line must be there).
wait_vm() {
	local pid=${VM_PID[$1]}
	wait "$pid"
	local rc=$?
	[ "$rc" -eq 124 ] && fail "$1: no power-off within ${BOOT_TIMEOUT}s; serial log ends: $(tail -c 1500 "$WORK/$1.serial")"
	SERIAL=$(tr -d '\r' <"$WORK/$1.serial")
}

# wait_text NAME TEXT: poll the serial log until TEXT shows, then stop the VM.
wait_text() {
	local name=$1 text=$2 pid=${VM_PID[$1]} i
	for ((i = 0; i < BOOT_TIMEOUT * 2; i++)); do
		grep -qaF -- "$text" "$WORK/$name.serial" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	SERIAL=$(tr -d '\r' <"$WORK/$name.serial")
	grep -qaF -- "$text" <<<"$SERIAL" ||
		fail "$name: \"$text\" never showed on the serial console; it ends: $(tail -c 1500 <<<"$SERIAL")"
}

# expect_result NAME MODE EXIT: the guest's result line.
expect_result() {
	local line
	line=$(grep -a '^WINSTATE-RESULT:' <<<"$SERIAL" | tail -n 1)
	[ "$line" = "WINSTATE-RESULT: mode=$2 exit=$3" ] ||
		fail "$1: expected 'WINSTATE-RESULT: mode=$2 exit=$3', got '${line:-no result line}'; serial log ends: $(tail -c 1500 <<<"$SERIAL")"
}

# Seconds from power-on to the agent (the init's "ready" line).
ready_time() { sed -n 's/^winstate boot image: ready (\([0-9.]*\) s since power-on)$/\1/p' <<<"$SERIAL"; }

stop_vms() {
	local p
	for p in "${BOOT_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	cleanup
}
trap stop_vms EXIT

# Drives: virtio, AHCI (SATA), USB stick, CD.
virtio_disk() { echo -drive "if=none,id=$1,file=$2,format=${3:-qcow2}" -device "virtio-blk-pci,drive=$1"; }
ahci_disk() { echo -device "ahci,id=ahci$1" -drive "if=none,id=$1,file=$2,format=${3:-qcow2}" -device "ide-hd,drive=$1,bus=ahci$1.0"; }
usb_disk() { echo -device qemu-xhci,id=xhci$1 -drive "if=none,id=$1,file=$2,format=${3:-qcow2}" -device "usb-storage,bus=xhci$1.0,drive=$1${4:+,bootindex=$4}"; }
