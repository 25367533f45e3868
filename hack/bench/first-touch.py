#!/usr/bin/env python3
"""What the host charges for touching guest memory again after a large allocation, and what
that does to `cleave run`'s exit latency. A diagnostic for the exit-latency rows of bench.py,
not part of its run; needs root and a release build.

1. A 64 MiB region, touched at start, is read again one byte a page (16,384 reads), idle
   and then 1 s after another process allocated SIZE: the time of that first pass and of
   the pass right after it, with the page faults each took (getrusage).
2. bench.py's SIGKILL row at SIZE (4 KiB pages): the preload floor, cleave async, and cleave
   async with cleave's own pages read once (through /proc/<pid>/mem) 1 s before the kill:
   all of them, those of its executable mappings only, the others only; all variants 1 s
   after the workload's allocation, interleaved.
3. The pages cleave touches between the kill and its exit (256 MiB workload): the referenced
   bits of its address space are cleared (/proc/<pid>/clear_refs) before the kill and read
   after it through its exit keeper, which holds that address space 5 ms past cleave's exit.

Usage: hack/bench/first-touch.py [--cleave PATH] [--size-mib 8192] [--reps 7]"""
import argparse, mmap, os, random, resource, signal, statistics, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

REGION = 64 << 20


def touch_pass(region):
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    start = time.monotonic_ns()
    for offset in range(0, REGION, 4096):
        region[offset]
    return (time.monotonic_ns() - start) / 1000, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults


def first_touch(cleave, size_mib, reps):
    region = mmap.mmap(-1, REGION)
    for offset in range(0, REGION, 4096):
        region[offset] = 1
    for _ in range(reps):
        touch_pass(region)
        time.sleep(0.2)
        idle = touch_pass(region)
        hog = subprocess.Popen([cleave, "probe", "alloc", str(size_mib << 20)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        if not hog.stdout.readline().startswith(b"ready"):
            raise RuntimeError("probe alloc: no ready line")
        time.sleep(1.0)
        first, second = touch_pass(region), touch_pass(region)
        hog.kill()
        hog.wait()
        print(f"a read a page of 64 MiB: idle {idle[0]:.0f} µs; 1 s after {size_mib} MiB were allocated: "
              f"first pass {first[0]:.0f} µs ({first[1]} faults), next pass {second[0]:.0f} µs ({second[1]} faults)",
              flush=True)
        time.sleep(1.5)


def read_pages(pid, which):
    """One byte of every readable page of pid's mappings ("all", "text": the executable ones,
    "other": the rest), read from outside."""
    fd = os.open(f"/proc/{pid}/mem", os.O_RDONLY)
    try:
        with open(f"/proc/{pid}/maps") as maps:
            for line in maps:
                fields = line.split()
                if fields[1][0] != "r" or line.rstrip().endswith("[vsyscall]"):
                    continue
                if which != "all" and (which == "text") != (fields[1][2] == "x"):
                    continue
                start, end = (int(x, 16) for x in fields[0].split("-"))
                for address in range(start, end, 4096):
                    try:
                        os.pread(fd, 1, address)
                    except OSError:
                        pass
    finally:
        os.close(fd)


def exit_rows(cleave, size_mib, reps):
    find_helper, pretouch = bench.find_helper, [None]

    def settled(root, timeout=5.0):
        helper = find_helper(root, timeout)
        time.sleep(1.0)
        if pretouch[0]:
            with open(f"/proc/{root}/stat") as f:
                read_pages(int(f.read().rsplit(")", 1)[1].split()[1]), pretouch[0])  # the workload's parent: cleave
        return helper

    bench.find_helper = settled
    args = argparse.Namespace(baseline=None)
    variants = [("preload, no cleave", None), ("cleave-async", None), ("cleave-async, all cleave's pages pre-touched", "all"),
                ("cleave-async, its text pre-touched", "text"), ("cleave-async, its other pages pre-touched", "other")]
    results = {name: [] for name, _ in variants}
    rng = random.Random(7)
    for _ in range(reps):
        for name, touch in rng.sample(variants, len(variants)):
            pretouch[0] = touch
            run = (bench.PreloadRun(args, cleave, size_mib << 20, False, "kill") if name.startswith("preload")
                   else bench.Run(args, cleave, "cleave-async", size_mib << 20, False, "kill"))
            results[name].append(run.measure()["exit_ms"])
    for name, values in results.items():
        values.sort()
        print(f"{size_mib} MiB 4 KiB SIGKILL, {name}: exit median {statistics.median(values):.2f} ms "
              f"[{' '.join(f'{v:.2f}' for v in values)}]")


def pages_after_reap(cleave, reps):
    for _ in range(reps):
        proc = subprocess.Popen([cleave, "run", "--teardown", "async", "--", cleave, "probe", "alloc", str(256 << 20)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            workload = int(proc.stdout.readline().split()[1])
            bench.find_helper(workload, 5.0)
            keeper = next((c for c in bench.children(proc.pid) if bench.comm(c) == bench.KEEPER_NAME), None)
            if keeper is None:
                print("no exit keeper: nothing to read the pages through")
                return
            with open(f"/proc/{keeper}/smaps") as smaps:
                with open(f"/proc/{proc.pid}/clear_refs", "w") as f:
                    f.write("1")
                time.sleep(0.05)
                os.kill(workload, signal.SIGKILL)
                proc.wait()
                try:
                    text = smaps.read()
                except OSError:
                    print("the exit keeper was gone before its maps were read")
                    continue
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        pages, name = {}, None
        for line in text.splitlines():
            fields = line.split()
            if "-" in fields[0] and not fields[0].endswith(":"):
                name = os.path.basename(fields[5]) if len(fields) > 5 else "[anon]"
            elif fields[0] == "Referenced:" and int(fields[1]):
                pages[name] = pages.get(name, 0) + int(fields[1]) // 4
        print(f"pages cleave touched from the kill to its exit: {sum(pages.values())} "
              f"({', '.join(f'{n} {k}' for n, k in sorted(pages.items(), key=lambda x: -x[1]))})", flush=True)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cleave", default=os.path.join(here, "..", "..", ".build", "release", "cleave"))
    ap.add_argument("--size-mib", type=int, default=8192)
    ap.add_argument("--reps", type=int, default=7)
    a = ap.parse_args()
    if not os.access(a.cleave, os.X_OK):
        sys.exit(f"first-touch.py: {a.cleave} is not an executable cleave (build with hack/build.sh release)")
    first_touch(a.cleave, a.size_mib, a.reps)
    exit_rows(a.cleave, a.size_mib, a.reps)
    pages_after_reap(a.cleave, 3)


if __name__ == "__main__":
    main()
