#!/bin/busybox sh
# Stage 1, in the initramfs: load the 9p and overlay modules, mount the host
# root (read-only) under a tmpfs overlay so the guest can write anywhere, and
# switch_root into it. Stage 2 runs there as PID 1.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules.order); do insmod "/modules/$m.ko" 2>/dev/null; done
mkdir -p /lower /ovl /newroot
# cache=loose keeps what the guest read in its page cache (the first
# `swift --version` took 4-6 s with it, 15-18 s without); the price: a host
# file changed while the guest runs may look stale to it.
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,ro,cache=loose hostroot /lower; then
  echo "CLEAVE-VM-FAIL cannot mount the host root over 9p"; poweroff -f
fi
mount -t tmpfs -o mode=0755 tmpfs /ovl
mkdir -p /ovl/upper /ovl/work
if ! mount -t overlay overlay -o lowerdir=/lower,upperdir=/ovl/upper,workdir=/ovl/work /newroot; then
  echo "cleave-vm: overlay unavailable, using the read-only host root" >&2
  mount --move /lower /newroot
fi
cp /stage2.sh /newroot/.cleave-vm-stage2 2>/dev/null || {
  mount -t tmpfs tmpfs /newroot/run && cp /stage2.sh /newroot/run/.cleave-vm-stage2; }
stage2=/.cleave-vm-stage2
[ -e /newroot$stage2 ] || stage2=/run/.cleave-vm-stage2
umount /proc /sys 2>/dev/null
mount --move /dev /newroot/dev 2>/dev/null || umount /dev
exec switch_root /newroot /bin/sh "$stage2"
