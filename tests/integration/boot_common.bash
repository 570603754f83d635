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

# partition DISK N OUT: copy partition N of a raw disk image into OUT (sparse),
# so the ntfs-3g driver can mount it on this machine (it has no offset option).
partition() {
	local line start size
	line=$(sfdisk -d "$1" | grep -E "^[^ ]*[^0-9]$2 : ") || fail "$1 has no partition $2"
	start=$(sed -E 's/.*start= *([0-9]+).*/\1/' <<<"$line")
	size=$(sed -E 's/.*size= *([0-9]+).*/\1/' <<<"$line")
	dd if="$1" of="$3" bs=1M iflag=skip_bytes,count_bytes skip=$((start * 512)) count=$((size * 512)) \
		conv=sparse status=none || fail "could not copy partition $2 out of $1"
}

# sidhex SID: the binary SID in hex, as it appears in a security descriptor.
sidhex() {
	python3 -c '
import sys
p = sys.argv[1].split("-")
subs = [int(x) for x in p[3:]]
b = bytes([int(p[1]), len(subs)]) + int(p[2]).to_bytes(6, "big") + b"".join(s.to_bytes(4, "little") for s in subs)
print(b.hex())' "$1"
}

# check_restored LIST.json SRC TGT linked|copied SID...: every file the store
# holds for these users is in TGT (mounted new Windows) with the content it
# has under SRC (the captured tree); Documents kept elsewhere (OneDrive) are
# expected in the new Documents folder.  "linked": the same MFT record as in
# SRC (a hard-link restore copies nothing; SRC is on the same volume);
# "copied": SRC is another volume, content only.
check_restored() {
	python3 - "$@" <<'PY' || fail "restored files differ from the captured ones (above)"
import json, os, sys
lst, src, tgt, how = sys.argv[1:5]
restored = set(sys.argv[5:])
d = json.load(open(lst))
moved = {}
for u in d["users"]:
    personal = u.get("extra", u).get("folder:Personal", "")
    if personal[1:3] == ":\\":
        old = personal[3:].replace("\\", "/")
        new = u["profile"] + "/Documents"
        if old.lower() != new.lower():
            moved[old + "/"] = new + "/"
checked = 0
per_user = {}
for f in d["files"]:
    if f["owner"] not in restored or f["attributes"] & 0x410:  # folders, reparse points
        continue
    dest = f["path"]
    for old, new in moved.items():
        if dest.lower().startswith(old.lower()):
            dest = new + dest[len(old):]
    a, b = os.path.join(src, f["path"]), os.path.join(tgt, dest)
    if not os.path.exists(b):
        sys.exit(f"not restored: {dest}")
    if open(a, "rb").read() != open(b, "rb").read():
        sys.exit(f"content differs: {dest}")
    if how == "linked" and os.lstat(a).st_ino != os.lstat(b).st_ino:
        sys.exit(f"{dest}: copied, not linked to the captured file")
    per_user[f["owner"]] = per_user.get(f["owner"], 0) + 1
    checked += 1
missing = restored - set(per_user)
if missing:
    sys.exit(f"no files checked for {missing}")
if checked < 200:
    sys.exit(f"only {checked} files checked")
print(f"{checked} restored files {how} with the captured content")
PY
}
