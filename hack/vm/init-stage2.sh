# Stage 2, PID 1 in the switched root: a fresh pure cgroup v2 system, then
# the job from the host's job directory, its output on the console between
# markers the host reads.
export PATH=/opt/swift/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb NO_COLOR=1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t cgroup2 cgroup2 /sys/fs/cgroup
# With the overlay root, /tmp is already writable (tmpfs upper layer) and
# shows the host's /tmp, where a checkout may live; only a read-only root
# needs a fresh tmpfs there.
touch /.cleave-vm-rw 2>/dev/null && rm -f /.cleave-vm-rw || mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/job
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 job /run/job; then
  echo "CLEAVE-VM-FAIL cannot mount the job directory"; poweroff -f
fi
# Loopback up, for tests that serve HTTP on 127.0.0.1 (cleave agent).
ip link set lo up 2>/dev/null || busybox ip link set lo up 2>/dev/null || true
# Enable every controller for the children of the root.
ctrl=$(sed 's/\([a-z_]*\)/+\1/g' /sys/fs/cgroup/cgroup.controllers)
echo "$ctrl" > /sys/fs/cgroup/cgroup.subtree_control
# No CR before LF on the host side.
stty -F /dev/console -opost 2>/dev/null || stty -opost 2>/dev/null
echo "CLEAVE-VM-BEGIN"
/bin/bash /run/job/cmd </dev/null &
job=$!
# PID 1 reaps everything orphaned (teardown helpers among them) while waiting.
wait $job
status=$?
echo "CLEAVE-VM-EXIT $status"
sync
poweroff -f
