#!/bin/sh
# Build winstate's boot image from Debian packages only.
#
#   initramfs/build-image.sh BUILD      (make image)
#
# Inputs: BUILD/winstate, Debian's kernel package (downloaded once with
# `apt-get download` into BUILD/image-cache/, unpacked with dpkg -x, never
# installed), busybox-static, the host's libraries for winstate, blkid and
# ntfs-3g.  Outputs in BUILD/image/: vmlinuz, initrd.img, winstate.iso (BIOS and
# UEFI, CD and USB), winstate-usb.img (writable FAT32 with winstate.cfg),
# pxe/ (iPXE script, pxelinux.cfg example), SIZES.  Needs root (device nodes
# in the initramfs); uses no loop devices and mounts nothing.
set -eu

BUILD=${1:?usage: initramfs/build-image.sh BUILD}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
cache=$BUILD/image-cache
root=$BUILD/image-root
out=$BUILD/image
work=$BUILD/image-work

die() { echo "build-image: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is missing (Debian package $2)"; }

[ -x "$BUILD/winstate" ] || die "$BUILD/winstate is not built (make BUILD=$BUILD)"
[ "$(id -u)" = 0 ] || die "run as root: the initramfs needs device nodes"
need busybox busybox-static; need xorriso xorriso; need grub-mkimage grub-common
need mcopy mtools; need mkfs.vfat dosfstools; need sfdisk fdisk; need syslinux syslinux
need cpio cpio; need depmod kmod; need apt-get apt
[ -f /usr/lib/ISOLINUX/isolinux.bin ] || die "/usr/lib/ISOLINUX/isolinux.bin is missing (Debian package isolinux)"
[ -d /usr/lib/grub/x86_64-efi ] || die "/usr/lib/grub/x86_64-efi is missing (Debian package grub-efi-amd64-bin)"
ldd "$(command -v busybox)" >/dev/null 2>&1 && die "busybox is dynamically linked; install busybox-static"
need zstd zstd

# ---- the kernel: Debian's current linux-image-*-amd64, cached ------------
mkdir -p "$cache"
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
deb=
[ -n "$kpkg" ] && deb=$(ls "$cache/${kpkg}"_*.deb 2>/dev/null | head -n 1)
if [ -z "$deb" ] && [ -n "$kpkg" ]; then
	echo "build-image: downloading $kpkg (once; kept in $cache)"
	(cd "$cache" && apt-get download -q "$kpkg" 2>&1 | grep -v '^W: Download is performed unsandboxed') ||
		true
	deb=$(ls "$cache/${kpkg}"_*.deb 2>/dev/null | head -n 1)
fi
if [ -z "$deb" ] && [ -z "$(ls "$cache"/linux-image-*-amd64_*.deb 2>/dev/null)" ]; then
	# Package lists older than the mirror name a kernel it no longer has.
	echo "build-image: refreshing the package lists and trying again"
	apt-get update -qq >/dev/null 2>&1 || true
	kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
	[ -n "$kpkg" ] && (cd "$cache" && apt-get download -q "$kpkg" >/dev/null 2>&1) || true
	[ -n "$kpkg" ] && deb=$(ls "$cache/${kpkg}"_*.deb 2>/dev/null | head -n 1)
fi
# Offline, or apt does not know the package: use the newest one cached.
[ -n "$deb" ] || deb=$(ls "$cache"/linux-image-*-amd64_*.deb 2>/dev/null | sort -V | tail -n 1)
[ -n "$deb" ] || die "no kernel package: apt-get download of ${kpkg:-the kernel that linux-image-amd64 depends on} failed and none is cached in $cache"
kdir=$cache/$(basename "$deb" .deb)
if [ ! -f "$kdir/.unpacked" ]; then
	rm -rf "$kdir"
	dpkg -x "$deb" "$kdir"
	kv=$(ls "$kdir/lib/modules")
	depmod -b "$kdir" "$kv"
	touch "$kdir/.unpacked"
fi
kv=$(ls "$kdir/lib/modules")
echo "build-image: kernel $kv ($(basename "$deb"))"

# ---- the root filesystem --------------------------------------------------
rm -rf "$root" "$work"
mkdir -p "$root" "$work" "$out"
mkdir -p "$root/bin" "$root/sbin" "$root/etc" "$root/proc" "$root/sys" "$root/dev" "$root/run" \
	"$root/tmp" "$root/root" "$root/usr/share/winstate" "$root/lib/modules/$kv"
mknod -m 600 "$root/dev/console" c 5 1
mknod -m 666 "$root/dev/null" c 1 3

# busybox and its applets (not "busybox" itself: a self-link loops, ELOOP)
cp "$(command -v busybox)" "$root/bin/busybox"
for a in $("$root/bin/busybox" --list); do
	case $a in busybox | blkid) continue ;; esac
	ln -s busybox "$root/bin/$a"
done
# the kernel runs /sbin/modprobe for filesystems and crypto it needs
ln -s ../bin/busybox "$root/sbin/modprobe"

# copy_path FILE: copy FILE into the root at the same path, following a
# symlink chain link by link so that every link still resolves there.
copy_path() {
	local p=$1 t
	[ -e "$root$p" ] || [ -L "$root$p" ] && return 0
	mkdir -p "$root$(dirname "$p")"
	if [ -L "$p" ]; then
		cp -P "$p" "$root$p"
		t=$(readlink "$p")
		case $t in /*) ;; *) t=$(dirname "$p")/$t ;; esac
		copy_path "$t"
	else
		cp "$p" "$root$p"
	fi
}
# copy_with_libs BIN DEST: the program, and exactly the libraries ldd names
# (with their symlinks) and the loader.
copy_with_libs() {
	local bin=$1 dest=$2 lib
	cp "$bin" "$root$dest"
	for lib in $(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		copy_path "$lib"
	done
}
copy_with_libs "$BUILD/winstate" /bin/winstate
ln -s winstate "$root/bin/scanstate"
ln -s winstate "$root/bin/loadstate"
ln -s winstate "$root/bin/usmtutils"
cp -r "$top/rules/xml" "$root/usr/share/winstate/rules"
# glibc's iconv loads its converters at run time (hivex: UTF-16LE and Latin-1
# registry strings); ldd does not list them.
# (the path is glibc's built-in GCONV_PATH on Debian amd64)
gconv=/usr/lib/x86_64-linux-gnu/gconv
for f in gconv-modules gconv-modules.cache gconv-modules.d UTF-16.so UTF-32.so UNICODE.so ISO8859-1.so; do
	[ -e "$gconv/$f" ] || continue
	mkdir -p "$root$gconv"
	cp -r "$gconv/$f" "$root$gconv/"
done
# util-linux blkid finds filesystems by LABEL=/UUID= (busybox has none)
copy_with_libs "$(command -v blkid)" /sbin/blkid
# ntfs-3g mounts NTFS store disks (never the Windows volume)
if command -v ntfs-3g >/dev/null 2>&1; then
	copy_with_libs "$(command -v ntfs-3g)" /bin/ntfs-3g
else
	echo "build-image: ntfs-3g not found: NTFS store disks will not be usable"
fi

cp "$here/init" "$root/init"
cp "$here/udhcpc.script" "$root/etc/udhcpc.script"
chmod 755 "$root/init" "$root/etc/udhcpc.script"
cp "$here/winstate.cfg.example" "$root/usr/share/winstate/winstate.cfg.example"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
printf 'export PATH=/bin:/sbin WINSTATE_RULES_DIR=/usr/share/winstate/rules PS1="winstate# "\n' \
	>"$root/etc/profile"
# Debian's loader looks in the multiarch folders; make it certain
printf '/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n' >"$root/etc/ld.so.conf"
ldconfig -r "$root" 2>/dev/null || true

# ---- kernel modules: the list, plus what modules.dep says they need --------
mods=$(sed 's/#.*//' "$here/modules.list" | tr -s ' \t' '\n' | grep -v '^$')
missing=
for m in $mods; do
	deps=$(modprobe -d "$kdir" -S "$kv" --show-depends "$m" 2>/dev/null) || { missing="$missing $m"; continue; }
	for f in $(printf '%s\n' "$deps" | awk '$1 == "insmod" { print $2 }'); do
		rel=${f#"$kdir"}
		[ -f "$root$rel" ] && continue
		mkdir -p "$root$(dirname "$rel")"
		cp "$f" "$root$rel"
	done
done
[ -z "$missing" ] || die "kernel $kv has no module(s):$missing (initramfs/modules.list)"
cp "$kdir/lib/modules/$kv"/modules.order "$kdir/lib/modules/$kv"/modules.builtin* "$root/lib/modules/$kv/"
depmod -b "$root" "$kv"
nmods=$(find "$root/lib/modules" -name '*.ko*' | wc -l)

# ---- initrd.img and vmlinuz --------------------------------------------------
cp "$kdir/boot/vmlinuz-$kv" "$out/vmlinuz"
# zstd: 20 % larger than xz but unpacked five times faster (1 s instead of
# 6 s under QEMU without KVM; CONFIG_RD_ZSTD=y in Debian's kernel).
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | zstd -19 -T0 -q >"$out/initrd.img"

# ---- boot loader configurations ---------------------------------------------
ARGS="console=ttyS0,115200n8 console=tty0 quiet"
echo "winstate boot image, kernel $kv" >"$work/winstate.id"

# GRUB (UEFI): one config for the ISO and the stick
cat >"$work/grub.cfg" <<EOF
# winstate boot image (UEFI).  Settings: winstate.cfg beside this folder, or
# winstate.KEY=VALUE words added to the linux lines below.
serial --unit=0 --speed=115200
terminal_input console serial
terminal_output console serial
set timeout=3
set default=0
menuentry "winstate: menu" {
	linux /boot/vmlinuz $ARGS
	initrd /boot/initrd.img
}
menuentry "winstate: list the users, then a shell" {
	linux /boot/vmlinuz $ARGS winstate.mode=users winstate.after=shell
	initrd /boot/initrd.img
}
menuentry "winstate: shell" {
	linux /boot/vmlinuz $ARGS winstate.mode=shell
	initrd /boot/initrd.img
}
EOF
# The EFI loader finds the medium by a marker file, then reads grub.cfg.
cat >"$work/early.cfg" <<'EOF'
search --no-floppy --file --set=root /boot/winstate.id
set prefix=($root)/boot/grub
configfile $prefix/grub.cfg
EOF
grub-mkimage -O x86_64-efi -p /boot/grub -c "$work/early.cfg" -o "$work/BOOTX64.EFI" \
	part_gpt part_msdos fat iso9660 search search_fs_file configfile normal linux echo test \
	serial terminal all_video efi_gop efi_uga gzio

# syslinux/isolinux (BIOS)
syslinux_cfg() {
	cat <<EOF
# winstate boot image (BIOS).  Settings: winstate.cfg on the medium, or
# winstate.KEY=VALUE words added to the APPEND lines below.
SERIAL 0 115200
PROMPT 1
TIMEOUT 30
DEFAULT menu
SAY winstate boot image: 'menu' (default), 'users' or 'shell'
LABEL menu
	KERNEL /boot/vmlinuz
	APPEND initrd=/boot/initrd.img $ARGS
LABEL users
	KERNEL /boot/vmlinuz
	APPEND initrd=/boot/initrd.img $ARGS winstate.mode=users winstate.after=shell
LABEL shell
	KERNEL /boot/vmlinuz
	APPEND initrd=/boot/initrd.img $ARGS winstate.mode=shell
EOF
}

# ---- hybrid ISO: BIOS and UEFI, from CD and from a USB stick -------------------
iso=$work/iso
mkdir -p "$iso/boot/grub" "$iso/isolinux" "$iso/EFI/BOOT"
cp "$out/vmlinuz" "$out/initrd.img" "$work/winstate.id" "$iso/boot/"
cp "$work/grub.cfg" "$iso/boot/grub/"
cp "$work/BOOTX64.EFI" "$iso/EFI/BOOT/"
cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$iso/isolinux/"
syslinux_cfg >"$iso/isolinux/isolinux.cfg"
cp "$here/winstate.cfg.example" "$iso/winstate.cfg"
mkfs.vfat -C -n WSEFI "$iso/boot/efiboot.img" 4096 >/dev/null
mmd -i "$iso/boot/efiboot.img" ::/EFI ::/EFI/BOOT
mcopy -i "$iso/boot/efiboot.img" "$work/BOOTX64.EFI" ::/EFI/BOOT/
rm -f "$out/winstate.iso"
xorriso -as mkisofs -quiet -o "$out/winstate.iso" -V WINSTATE -iso-level 3 -J -joliet-long -r \
	-isohybrid-mbr /usr/lib/ISOLINUX/isohdpfx.bin \
	-c isolinux/boot.cat -b isolinux/isolinux.bin -no-emul-boot -boot-load-size 4 -boot-info-table \
	-eltorito-alt-boot -e boot/efiboot.img -no-emul-boot -isohybrid-gpt-basdat \
	"$iso" 2>&1 | grep -v -e '^xorriso : UPDATE' -e 'NOTE : ' || true
[ -s "$out/winstate.iso" ] || die "xorriso did not write $out/winstate.iso"

# ---- writable FAT32 stick (MBR, syslinux for BIOS, GRUB for UEFI) -------------
usb=$out/winstate-usb.img
rm -f "$usb"
truncate -s 256M "$usb"
printf 'label: dos\nstart=2048, type=c, bootable\n' | sfdisk -q "$usb"
sectors=$(sfdisk -l -o Sectors "$usb" | tail -n 1 | tr -d ' ')
mkfs.vfat -F 32 -n WINSTATE --offset 2048 "$usb" $((sectors / 2)) >/dev/null
M="-i $usb@@1M"
# shellcheck disable=SC2086
{
	mmd $M ::/boot ::/boot/grub ::/EFI ::/EFI/BOOT ::/syslinux
	mcopy $M "$out/vmlinuz" "$out/initrd.img" "$work/winstate.id" ::/boot/
	mcopy $M "$work/grub.cfg" ::/boot/grub/
	mcopy $M "$work/BOOTX64.EFI" ::/EFI/BOOT/
	syslinux_cfg >"$work/syslinux.cfg"
	mcopy $M "$work/syslinux.cfg" ::/syslinux/
	mcopy $M "$here/winstate.cfg.example" ::/winstate.cfg
	printf 'username=\npassword=\ndomain=\n' >"$work/credentials.txt.example"
	mcopy $M "$work/credentials.txt.example" ::/
}
syslinux --offset $((2048 * 512)) --directory /syslinux --install "$usb"
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$usb" bs=440 count=1 conv=notrunc status=none

# ---- PXE examples ---------------------------------------------------------------
mkdir -p "$out/pxe/pxelinux.cfg"
cat >"$out/pxe/boot.ipxe" <<EOF
#!ipxe
# winstate over the network: serve vmlinuz and initrd.img beside this script
# (TFTP or HTTP).  Settings go on the kernel line, for example
#   winstate.mode=scan winstate.store=nfs://10.0.0.1/srv/stores/%COMPUTERNAME% winstate.after=poweroff
dhcp
kernel vmlinuz initrd=initrd.img $ARGS winstate.mode=menu
initrd initrd.img
boot || shell
EOF
cat >"$out/pxe/pxelinux.cfg/default" <<EOF
# pxelinux (Debian packages pxelinux, syslinux-common): copy pxelinux.0 and
# ldlinux.c32 into the TFTP root with vmlinuz and initrd.img.
SERIAL 0 115200
PROMPT 1
TIMEOUT 30
DEFAULT menu
LABEL menu
	KERNEL vmlinuz
	APPEND initrd=initrd.img $ARGS
LABEL scan
	KERNEL vmlinuz
	APPEND initrd=initrd.img $ARGS winstate.mode=scan winstate.store=nfs://10.0.0.1/srv/stores/%COMPUTERNAME% winstate.after=poweroff
EOF

# ---- sizes -----------------------------------------------------------------------
size() { du -k --apparent-size "$1" | awk '{ printf "%.1f MiB", $1 / 1024 }'; }
{
	echo "kernel $kv, $nmods modules"
	echo "vmlinuz          $(size "$out/vmlinuz")"
	echo "initrd.img       $(size "$out/initrd.img") (zstd; $(du -sk "$root" | awk '{ printf "%.1f MiB", $1 / 1024 }') unpacked)"
	echo "winstate.iso     $(size "$out/winstate.iso")"
	echo "winstate-usb.img $(size "$usb") (sparse; $(du -k "$usb" | awk '{ printf "%.1f MiB", $1 / 1024 }') used)"
} >"$out/SIZES"
cat "$out/SIZES"
rm -rf "$work"
