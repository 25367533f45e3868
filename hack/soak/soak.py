#!/usr/bin/env python3
"""cleave's soak: many `cleave run --teardown async` cycles, many at once, every exit
status checked, and what is left afterwards counted (cgroups, helpers, exit keepers,
watchers, zombies, our own descriptors, run records). Prints a Markdown table; exits 1 on any failure or
leftover. Run through hack/soak.sh."""
import argparse, concurrent.futures, json, os, signal, statistics, subprocess, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from contract import HELPER_PREFIX, KEEPER_NAME  # noqa: E402

MOUNT = None


def cgroup2_mount():
    with open("/proc/self/mountinfo") as f:
        points = [line.split(" - ")[0].split()[4] for line in f if " - cgroup2 " in line]
    for p in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        if p in points:
            return p
    return points[0]


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return None


def processes():
    """(pid, ppid, state, comm, cmdline, cgroup) of every process."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        stat = read(f"/proc/{name}/stat")
        if not stat:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        cmdline = (read(f"/proc/{name}/cmdline") or "").split("\0")
        cgroup = next((l[3:] for l in (read(f"/proc/{name}/cgroup") or "").splitlines() if l.startswith("0::")), "")
        out.append((int(name), int(fields[1]), fields[0], comm, cmdline, cgroup))
    return out


class Counts:
    """What the soak may leave behind, each as a number."""
    KINDS = ["cgroups", "helpers", "keepers", "watchers", "zombies", "fds", "state files"]
    # Counted and shown, but not a failure: other test runs on the machine make these too.
    INFO = ["cleave-test*"]

    def __init__(self, parent, tag, state_dir):
        procs = processes()
        me = os.getpid()
        root = f"{MOUNT}/{parent}/{tag}"
        self.values = {
            # Our runs' cgroups (cleave/<tag>/*) and any test cgroup left on the machine.
            "cgroups": sum(1 for n in (os.listdir(root) if os.path.isdir(root) else []) if os.path.isdir(f"{root}/{n}")),
            "cleave-test*": sum(1 for n in os.listdir(MOUNT) if n.startswith("cleave-test")),
            "helpers": sum(1 for p in procs if p[2] != "Z" and p[3].startswith(HELPER_PREFIX) and f"/{parent}/{tag}/" in p[5]),
            # cleave's exit keepers (their cmdline is cleave's: they share its memory).
            "keepers": sum(1 for p in procs if p[2] != "Z" and p[3] == KEEPER_NAME
                           and any(f"{parent}/{tag}/" in a for a in p[4])),
            "watchers": sum(1 for p in procs if p[2] != "Z" and len(p[4]) > 3 and p[4][1] == "__watch-teardown"
                            and any(f"/{parent}/{tag}/" in a for a in p[4])),
            # Unreaped children of this driver (a zombie reparented to a lazy init is not ours).
            "zombies": sum(1 for p in procs if p[2] == "Z" and p[1] == me),
            "fds": len(os.listdir("/proc/self/fd")),
            "state files": sum(1 for n in os.listdir(state_dir) if n.endswith(".json")) if os.path.isdir(state_dir) else 0,
        }

    def minus(self, before):
        return {k: self.values[k] - before.values[k] for k in self.KINDS + self.INFO}


KINDS = ["hold", "kill", "term", "code", "signal"]


def one_run(cleave, i, args, env):
    """One cleave run of kind i % 5. Returns (kind, ok, latency_ms or None, detail)."""
    kind = KINDS[i % len(KINDS)]
    base = [cleave, "run", "--teardown", "async", "--cgroup", f"{args.parent}/{args.tag}/{kind}-{i}"]
    probe = [cleave, "probe", "alloc", args.size]
    if kind == "hold":       # the probe exits 0 when its stdin closes
        cmd, expected = base + ["--"] + probe + ["--hold"], 0
    elif kind == "kill":     # SIGKILL to the workload, as a manager would
        cmd, expected = base + ["--"] + probe, 137
    elif kind == "term":     # SIGTERM to cleave, forwarded to the workload
        cmd, expected = base + ["--"] + probe, 143
    elif kind == "code":     # distinct exit codes
        code = 1 + i % 120
        cmd, expected = base + ["--", "sh", "-c", f"exit {code}"], code
    else:                    # the workload kills itself with a signal
        cmd, expected = base + ["--", "sh", "-c", "kill -USR1 $$"], 128 + signal.SIGUSR1
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    latency = None
    try:
        if kind in ("hold", "kill", "term"):
            line = proc.stdout.readline().decode()
            if not line.startswith("ready "):
                proc.kill()
                _, err = proc.communicate(timeout=30)
                return kind, False, None, f"no ready line: {line!r} {err.decode()[-300:]}"
            pid = int(line.split()[1])
            t0 = time.monotonic()
            if kind == "hold":
                pass   # communicate() below closes its stdin
            elif kind == "kill":
                os.kill(pid, signal.SIGKILL)
            else:
                proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
        elapsed = (time.monotonic() - t0) * 1000
        if kind in ("hold", "kill", "term"):
            latency = elapsed
        ok = proc.returncode == expected
        return kind, ok, latency, "" if ok else f"exit {proc.returncode}, expected {expected}: {err.decode()[-300:]}"
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return kind, False, None, "timed out"


def settle(parent, tag, state_dir, before, timeout):
    """Waits for the teardowns to finish, then returns the leftovers."""
    deadline = time.monotonic() + timeout
    while True:
        left = Counts(parent, tag, state_dir).minus(before)
        if all(left[k] <= 0 for k in Counts.KINDS) or time.monotonic() > deadline:
            return {k: max(0, v) for k, v in left.items()}
        time.sleep(0.1)


def fault_supervisor_killed(cleave, i, args, env):
    """cleave SIGKILLed while the workload runs; the workload is killed afterwards; gc collects."""
    proc = subprocess.Popen([cleave, "run", "--cgroup", f"{args.parent}/{args.tag}/svkill-{i}", "--", "sh", "-c",
                             f"exec {cleave} probe alloc {args.size} >/dev/null 2>&1 </dev/null"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    workload, deadline = None, time.monotonic() + 20
    while workload is None and time.monotonic() < deadline:
        for p in processes():
            if p[3].startswith(HELPER_PREFIX) and p[1] != proc.pid:
                pid = int(p[3].split("/")[1])
                if f"/{args.parent}/{args.tag}/" in p[5] and read(f"/proc/{pid}/comm") == "cleave\n" and any(
                        q[0] == pid and q[1] == proc.pid for q in processes()):
                    workload = pid
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    if workload is None:
        return False, "workload never started"
    alive = read(f"/proc/{workload}/stat") is not None
    os.kill(workload, signal.SIGKILL)
    return alive, "" if alive else "the workload died with cleave"


def fault_helper_killed(cleave, i, args, env):
    """The helper SIGKILLed early: the workload exits normally with its own code."""
    proc = subprocess.Popen([cleave, "run", "--cgroup", f"{args.parent}/{args.tag}/hkill-{i}", "--", "sh", "-c", "sleep 2; exit 42"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    # The window is the workload's 2 s: wide enough for a /proc scan on a loaded machine.
    deadline, killed = time.monotonic() + 5, False
    while not killed and time.monotonic() < deadline:
        for p in processes():
            if p[3].startswith(HELPER_PREFIX) and f"/{args.parent}/{args.tag}/" in p[5]:
                workload = int(p[3].split("/")[1])
                if any(q[0] == workload and q[1] == proc.pid for q in processes()):
                    os.kill(p[0], signal.SIGKILL)
                    killed = True
        time.sleep(0.005)
    _, err = proc.communicate(timeout=30)
    ok = killed and proc.returncode == 42
    return ok, "" if ok else f"helper killed {killed}, exit {proc.returncode}: {err.decode()[-200:]}"


def percentile(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))] if s else float("nan")


def main():
    global MOUNT
    ap = argparse.ArgumentParser()
    ap.add_argument("--cleave", required=True)
    ap.add_argument("--cycles", type=int, default=1000)
    ap.add_argument("--concurrent", type=int, default=50)
    ap.add_argument("--faults", type=int, default=20, help="runs of each fault scenario (0: none)")
    ap.add_argument("--size", default="16M")
    ap.add_argument("--parent", default="cleave")
    ap.add_argument("--settle", type=float, default=60.0)
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    MOUNT = cgroup2_mount()
    args.tag = f"soak{os.getpid()}"
    state_dir = f"/run/cleave/soak-{os.getpid()}"
    env = dict(os.environ, CLEAVE_STATE_DIR=state_dir, CLEAVE_EVENT_LOG=f"{state_dir}/events.log")
    os.makedirs(state_dir, exist_ok=True)
    parent_existed = os.path.isdir(f"{MOUNT}/{args.parent}")

    before = Counts(args.parent, args.tag, state_dir)
    started = time.monotonic()
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.concurrent) as pool:
        for r in pool.map(lambda i: one_run(args.cleave, i, args, env), range(args.cycles)):
            results.append(r)
    wall = time.monotonic() - started
    left = settle(args.parent, args.tag, state_dir, before, args.settle)

    faults = []
    for name, fn in (("cleave SIGKILLed mid-run, then `cleave gc`", fault_supervisor_killed),
                     ("helper SIGKILLed early", fault_helper_killed)):
        if args.faults <= 0:
            break
        fb = Counts(args.parent, args.tag, state_dir)
        outcomes = [fn(args.cleave, i, args, env) for i in range(args.faults)]
        if fn is fault_supervisor_killed:
            # gc exits 1 while a killed workload's cgroup is still populated (it is dying): retry.
            deadline = time.monotonic() + 20
            while True:
                gc = subprocess.run([args.cleave, "gc", "--parent", f"{args.parent}/{args.tag}", "--state-dir", state_dir],
                                    capture_output=True, text=True, env=env)
                if gc.returncode != 1 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            if gc.returncode != 0:
                outcomes.append((False, f"cleave gc exited {gc.returncode}: {gc.stdout[-300:]}{gc.stderr[-300:]}"))
        faults.append((name, args.faults, outcomes, settle(args.parent, args.tag, state_dir, fb, args.settle)))

    failures = [r for r in results if not r[1]]
    latencies = [r[2] for r in results if r[2] is not None]
    print(f"\ncleave soak: {args.cycles} runs, {args.concurrent} at once, {args.size} probes, {wall:.1f} s "
          f"({args.cycles / wall:.1f} runs/s); kinds: {', '.join(KINDS)}\n")
    cols = Counts.KINDS + Counts.INFO
    print("| scenario | runs | failures | " + " | ".join(f"left: {k}" for k in cols) + " |")
    print("|---|---:|---:|" + "---:|" * len(cols))
    print(f"| soak (async teardown) | {len(results)} | {len(failures)} | " + " | ".join(str(left[k]) for k in cols) + " |")
    for name, n, outcomes, fleft in faults:
        bad = [o for o in outcomes if not o[0]]
        print(f"| fault: {name} | {n} | {len(bad)} | " + " | ".join(str(fleft[k]) for k in cols) + " |")
    if latencies:
        print(f"\nexit latency (trigger to cleave's exit, {len(latencies)} probe runs): median "
              f"{statistics.median(latencies):.1f} ms, p99 {percentile(latencies, 0.99):.1f} ms, max {max(latencies):.1f} ms")
    by_kind = {k: [r for r in results if r[0] == k] for k in KINDS}
    print("per kind: " + ", ".join(f"{k} {len(v) - sum(1 for r in v if not r[1])}/{len(v)} ok" for k, v in by_kind.items()))
    for r in failures[:10]:
        print(f"FAILED {r[0]}: {r[3]}", file=sys.stderr)
    for name, _, outcomes, _ in faults:
        for o in [o for o in outcomes if not o[0]][:5]:
            print(f"FAILED fault {name}: {o[1]}", file=sys.stderr)

    # Remove what the soak itself made when it is empty.
    try:
        for n in os.listdir(state_dir):
            if not n.endswith(".json"):
                os.unlink(f"{state_dir}/{n}")
        os.rmdir(state_dir)
    except OSError:
        pass
    for path, remove in ((f"{MOUNT}/{args.parent}/{args.tag}", True), (f"{MOUNT}/{args.parent}", not parent_existed)):
        try:
            if remove:
                os.rmdir(path)
        except OSError:
            pass

    leftover = any(left[k] for k in Counts.KINDS) or any(f[3][k] for f in faults for k in Counts.KINDS)
    fault_failures = sum(1 for f in faults for o in f[2] if not o[0])
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": len(results), "failures": len(failures), "left": left, "wall_s": wall,
                       "latency_ms": {"median": statistics.median(latencies) if latencies else None,
                                      "p99": percentile(latencies, 0.99), "max": max(latencies, default=None)},
                       "faults": [{"name": n, "runs": k, "failures": sum(1 for o in o_ if not o[0]), "left": l}
                                  for n, k, o_, l in faults]}, f, indent=2)
    return 1 if failures or fault_failures or leftover else 0


if __name__ == "__main__":
    sys.exit(main())
