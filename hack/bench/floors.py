#!/usr/bin/env python3
"""How close `cleave run` is to the least any supervisor can do on this host: the yardsticks for
issue 15's spawn and exit-latency targets. A diagnostic beside bench.py, not part of its run;
needs root, a release build, cc and swiftc.

1. Spawn: /bin/true started and reaped (bench.py's harness, interleaved rounds) bare with
   posix_spawn; under the smallest supervisor in C (supervisor-floor.c: a cgroup made,
   clone3 into it, wait, rmdir, status relayed); under the same in Swift, linked as
   cleave's release build (static PIE), without and with FoundationEssentials
   (supervisor-floor.swift); under `cleave run --teardown sync` and `cleave run` (async).
2. Exit latency, bench.py's SIGKILL row at SIZE with 4 KiB pages, interleaved: the probe
   with the preload alone (the floor), the same probe under the C supervisor, under
   `cleave run --teardown async`.

Usage: hack/bench/floors.py [--cleave PATH] [--rounds 300] [--size-mib 8192] [--reps 10]"""
import argparse, os, random, statistics, subprocess, sys, tempfile, time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import bench  # noqa: E402

STATIC_PIE = ["-O", "-static-stdlib", "-use-ld=lld", "-Xclang-linker", "-static-pie",
              "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"]


def build(tmp):
    c, swift = os.path.join(tmp, "supervisor-floor"), os.path.join(tmp, "supervisor-floor-swift")
    subprocess.run(["cc", "-O2", "-Wall", "-o", c, os.path.join(here, "supervisor-floor.c")], check=True)
    for out, defines in ((swift, []), (swift + "-foundation", ["-D", "FOUNDATION"])):
        subprocess.run(["swiftc", *STATIC_PIE, *defines, "-o", out, os.path.join(here, "supervisor-floor.swift")],
                       check=True, stderr=subprocess.DEVNULL)
    return c, swift


def rmdir_retrying(path):
    for _ in range(100):
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.05)


def table(results, base_name, unit_label):
    base = statistics.median(results[base_name])
    for name, values in results.items():
        values.sort()
        m = statistics.median(values)
        print(f"| {name} | {m:.2f} ({values[0]:.2f}–{values[-1]:.2f}) | {m - base:+.2f} |")
    print(f"({unit_label})", flush=True)


def spawn_floors(cleave, c, swift, rounds):
    mount = "/sys/fs/cgroup/unified" if os.path.isdir("/sys/fs/cgroup/unified") else "/sys/fs/cgroup"
    parent = os.path.join(mount, "cleave-floors")
    os.makedirs(parent, exist_ok=True)
    variants = {
        "posix_spawn /bin/true": lambda i: ["/bin/true"],
        "C supervisor + cgroup": lambda i: [c, "--cgroup", parent, "/bin/true"],
        "Swift supervisor + cgroup (static PIE)": lambda i: [swift, parent, "/bin/true"],
        "the same + FoundationEssentials": lambda i: [swift + "-foundation", parent, "/bin/true"],
        "cleave run --teardown sync": lambda i: [cleave, "run", "--teardown", "sync", "--cgroup", f"cleave-floors/s{i}", "--", "/bin/true"],
        "cleave run (async)": lambda i: [cleave, "run", "--cgroup", f"cleave-floors/a{i}", "--", "/bin/true"],
    }
    results = {name: [] for name in variants}
    rng = random.Random(5)
    try:
        for i in range(-3, rounds):
            for name in rng.sample(list(variants), len(variants)):
                ms, ok = bench.spawn_once(variants[name](max(i, 0) if i >= 0 else 1000 + i))
                if not ok:
                    raise RuntimeError(f"{name}: /bin/true did not exit 0")
                if i >= 0:
                    results[name].append(ms)
    finally:
        rmdir_retrying(parent)
    print(f"\nSpawn of /bin/true, {rounds} interleaved rounds: median (min–max) ms, above posix_spawn\n")
    print("| how | ms | above posix_spawn |\n|---|---|---|")
    table(results, "posix_spawn /bin/true", f"{rounds} rounds")


def exit_floors(cleave, c, size_mib, reps):
    args = argparse.Namespace(baseline=None)
    size = size_mib << 20
    variants = {
        bench.PRELOAD_FLOOR: lambda: bench.PreloadRun(args, cleave, size, False, "kill"),
        # One sleeping process between this script and the workload, nothing else of cleave's.
        "C supervisor + preload": lambda: bench.PreloadRun(args, cleave, size, False, "kill", supervisor=c,
                                                           variant="C supervisor + preload"),
        "cleave run --teardown async": lambda: bench.Run(args, cleave, "cleave-async", size, False, "kill"),
    }
    results = {name: [] for name in variants}
    rng = random.Random(9)
    for _ in range(reps):
        for name in rng.sample(list(variants), len(variants)):
            results[name].append(variants[name]().measure()["exit_ms"])
    print(f"\nExit latency, {size_mib} MiB of 4 KiB pages, SIGKILL to the workload, {reps} interleaved runs: "
          f"median (min–max) ms, above the preload floor\n")
    print("| how | ms | above the floor |\n|---|---|---|")
    table(results, bench.PRELOAD_FLOOR, f"{reps} runs")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cleave", default=os.path.join(here, "..", "..", ".build", "release", "cleave"))
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--size-mib", type=int, default=8192)
    ap.add_argument("--reps", type=int, default=10)
    a = ap.parse_args()
    cleave = os.path.abspath(a.cleave)
    if not os.access(cleave, os.X_OK):
        sys.exit(f"floors.py: {cleave} is not an executable cleave (build with hack/build.sh release)")
    with tempfile.TemporaryDirectory(prefix="cleave-floors.") as tmp:
        c, swift = build(tmp)
        if a.rounds > 0:
            spawn_floors(cleave, c, swift, a.rounds)
        if a.reps > 0:
            exit_floors(cleave, c, a.size_mib, a.reps)


if __name__ == "__main__":
    main()
