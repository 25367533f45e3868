#!/usr/bin/env python3
"""cleave's benchmark: exit latency, memory release and teardown start delay
(cleave sync / async, QEMU with and without -async-teardown; real programs:
the JVM with 4 KiB pages and THP, Redis, Node, Python), spawn cost, and
the helper's set-up cost. Variants run interleaved (A B A B ...); each figure
is the median, min and max of the repetitions. Prints a Markdown table and
writes raw JSON, the table and a PNG plot under the results directory."""
import argparse, json, os, platform, random, select, shutil, signal, statistics, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from contract import HELPER_PREFIX, KEEPER_NAME  # noqa: E402

MiB = 1 << 20


def now():
    return time.monotonic_ns() / 1e6  # ms


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def is_cleaves_own(pid):
    """A child of cleave that is not the program: its teardown helper, its watcher, its exit keeper."""
    name = comm(pid) or ""
    return name.startswith(HELPER_PREFIX) or name == KEEPER_NAME or is_watcher(pid)


def is_watcher(pid):
    """cleave's teardown watcher (`cleave __watch-teardown`), started beside the workload."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"__watch-teardown" in f.read().split(b"\0")
    except OSError:
        return False


def children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def find_helper(root, timeout=5.0):
    """The cleanup/* process below `root`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        todo = [root]
        while todo:
            p = todo.pop()
            for c in children(p):
                if (comm(c) or "").startswith(HELPER_PREFIX):
                    return c
                todo.append(c)
        time.sleep(0.005)
    return None


def figures(t0, t_reap, helper):
    """Exit latency, release time and teardown start delay of one run: after
    the reap, watch the helper's resident set until it starts falling (the
    freeing has started), then wait on a pidfd until the helper is gone (the
    memory is back). Sampling to the end would take a CPU from the release it
    measures: its extra workers run at SCHED_IDLE, on CPU time nothing else
    wants, and a sampling loop is something else."""
    start_delay, released = None, t_reap
    if helper:
        try:
            fd = os.pidfd_open(helper)
        except OSError:
            fd = None  # already gone
        base = rss_kb(helper)
        while alive(helper):
            r = rss_kb(helper)
            if r is None or base is None or r < base - 1024:
                start_delay = now() - t_reap
                break
            time.sleep(0.0002)
        if fd is not None:
            select.select([fd], [], [], 600)
            os.close(fd)
        released = now()
        if start_delay is None:
            start_delay = released - t_reap
    return {"exit_ms": t_reap - t0, "release_ms": released - t0, "start_delay_ms": start_delay, "helper": bool(helper)}


class Run:
    """One workload: start, wait until its memory is touched, end it, measure."""

    def __init__(self, args, cleave, variant, size, thp, end):
        self.cleave, self.variant, self.size, self.thp, self.end = cleave, variant, size, thp, end
        self.args = args

    def command(self):
        if self.variant.startswith("cleave"):
            mode = "async" if self.variant == "cleave-async" else "sync"
            cmd = [self.cleave, "run", "--teardown", mode, "--", self.cleave, "probe", "alloc", str(self.size)]
            if self.thp:
                cmd.append("--thp")
            if self.end == "exit":
                cmd.append("--hold")
            return cmd
        mem = f"{self.size // MiB}M"
        cmd = ["qemu-system-x86_64", "-accel", "tcg", "-S", "-display", "none", "-nodefaults", "-m", mem,
               "-object", f"memory-backend-ram,id=m0,size={mem},prealloc=on", "-machine", "memory-backend=m0"]
        if self.end == "exit":
            cmd += ["-monitor", "stdio"]
        if self.variant == "qemu-async":
            cmd.append("-async-teardown")
        return cmd

    def measure(self):
        proc = subprocess.Popen(self.command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            # The workload: cleave's probe (its pid is on the ready line), or QEMU itself.
            workload = proc.pid
            if self.variant.startswith("cleave"):
                line = proc.stdout.readline().decode()
                if not line.startswith("ready"):
                    raise RuntimeError(f"{self.variant}: no ready line")
                workload = int(line.split()[1])
            else:
                end = time.monotonic() + 600
                while (rss_kb(proc.pid) or 0) * 1024 < 0.9 * self.size:
                    if time.monotonic() > end or proc.poll() is not None:
                        raise RuntimeError("qemu did not preallocate")
                    time.sleep(0.05)
            helper = find_helper(workload, 5.0) if self.variant.endswith("async") else None
            t0 = now()
            if self.end == "kill":
                # SIGKILL to the workload, as a manager would (killing cleave would orphan it);
                # measured until the manager (cleave, or us for QEMU) has reaped it.
                os.kill(workload, signal.SIGKILL)
            else:
                if self.variant.startswith("qemu"):
                    proc.stdin.write(b"quit\n")
                proc.stdin.close()
            proc.wait()
            t_reap = now()
            return figures(t0, t_reap, helper)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


PRELOAD_FLOOR = "preload, no cleave"


class PreloadRun(Run):
    """The bare floor of the exit-latency rows ("preload, no cleave"): the same probe started by
    this script with LD_PRELOAD=libcleave-teardown.so and no cleave; its parent (this script)
    only waitpid()s. What `cleave run --teardown async` adds to the exit is measured against it.
    `supervisor`: a program put between this script and the probe (floors.py's yardstick); the
    preload then reaches the probe only, through env(1), and the probe's pid is its ready line's."""

    def __init__(self, args, cleave, size, thp, end, supervisor=None, variant=PRELOAD_FLOOR):
        super().__init__(args, cleave, variant, size, thp, end)
        self.supervisor = supervisor

    def command(self):
        cmd = [self.cleave, "probe", "alloc", str(self.size)] + (["--thp"] if self.thp else [])
        return cmd + (["--hold"] if self.end == "exit" else [])

    def measure(self):
        env = dict(os.environ)
        library = os.path.join(os.path.dirname(os.path.abspath(self.cleave)), "libcleave-teardown.so")
        preload = library + (":" + env["LD_PRELOAD"] if env.get("LD_PRELOAD") else "")
        if self.supervisor:
            argv = [self.supervisor, "env", f"LD_PRELOAD={preload}"] + self.command()
        else:
            argv = self.command()
            env["LD_PRELOAD"] = preload
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        try:
            line = proc.stdout.readline().decode()
            if not line.startswith("ready"):
                raise RuntimeError(f"{self.variant}: no ready line")
            workload = int(line.split()[1]) if self.supervisor else proc.pid
            helper = find_helper(workload, 5.0)
            if not helper:
                raise RuntimeError(f"{self.variant}: no cleanup/<pid> helper (is {library} there?)")
            t0 = now()
            if self.end == "kill":
                os.kill(workload, signal.SIGKILL)
            else:
                proc.stdin.close()
            proc.wait()
            return figures(t0, now(), helper)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


BASELINE_ASYNC = "cleave-async (baseline)"


def exit_variants(a, page, have_qemu):
    """The variants of one exit-latency row, interleaved in the same rounds: the preload floor,
    cleave sync/async (and the --baseline build's async beside it), QEMU on the THP rows."""
    variants = [PRELOAD_FLOOR, "cleave-sync", "cleave-async"] + ([BASELINE_ASYNC] if a.baseline else [])
    # QEMU's guest RAM takes THP where the host allows it: compare on the THP rows.
    return variants + (["qemu-sync", "qemu-async"] if have_qemu and page == "thp" else [])


def exit_run(a, variant, size, page, end):
    """One run of an exit-latency variant."""
    if variant == PRELOAD_FLOOR:
        return PreloadRun(a, a.cleave, size, page == "thp", end)
    if variant == BASELINE_ASYNC:
        return Run(a, a.baseline, "cleave-async", size, page == "thp", end)
    return Run(a, a.cleave, variant, size, page == "thp", end)


def floor_lines(rows):
    """Issue 15's exit-latency target per row: cleave async at most 0.5 ms (median) above the
    preload floor, and at or below QEMU's -async-teardown on the THP rows."""
    out = []
    for r in rows:
        if r["variant"] not in ("cleave-async", BASELINE_ASYNC) or not r["exit_ms"]:
            continue
        same = lambda v: next((x["exit_ms"] for x in rows if x["variant"] == v and x["size_mib"] == r["size_mib"]
                               and x["pages"] == r["pages"] and x["end"] == r["end"] and x["exit_ms"]), None)
        floor, qemu = same(PRELOAD_FLOOR), same("qemu-async")
        if not floor:
            continue
        added = r["exit_ms"]["median"] - floor["median"]
        line = (f"- {r['size_mib']} MiB {r['pages']} {r['end']}: {r['variant']} adds {added:+.2f} ms to the preload floor "
                f"(target ≤ 0.5: {'met' if added <= 0.5 else 'missed'})")
        if qemu:
            met = r["exit_ms"]["median"] <= qemu["median"]
            line += f"; qemu-async {qemu['median']:.2f} ms ({'at or below: met' if met else 'above: missed'})"
        out.append(line)
    return out


class WorkersRun(Run):
    """cleave run --teardown async --teardown-workers N (the parallel release), or sync."""

    def __init__(self, args, cleave, workers, size, one_cpu=False):
        super().__init__(args, cleave, "cleave-async" if workers else "cleave-sync", size, False, "kill")
        self.workers = workers
        self.one_cpu = one_cpu

    def command(self):
        cmd = super().command()
        if self.workers:
            cmd[2:2] = ["--teardown-workers", str(self.workers)]
        # Confined to CPU 0 (cleave, the workload and its helper inherit it): as in a cgroup
        # allowed one CPU, where 1 worker is the default.
        return (["taskset", "-c", "0"] + cmd) if self.one_cpu else cmd

    def measure(self):
        """As Run.measure, but waits for the helper on a pidfd instead of sampling its
        resident set: a sampling loop would take a CPU from the workers it measures."""
        proc = subprocess.Popen(self.command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            line = proc.stdout.readline().decode()
            if not line.startswith("ready"):
                raise RuntimeError(f"{self.variant}: no ready line")
            workload = int(line.split()[1])
            helper = find_helper(workload, 5.0) if self.workers else None
            pidfd = os.pidfd_open(helper) if helper else None
            t0 = now()
            os.kill(workload, signal.SIGKILL)
            proc.wait()
            t_reap = now()
            released = t_reap
            if pidfd is not None:
                select.select([pidfd], [], [], 600)
                released = now()
                os.close(pidfd)
            return {"exit_ms": t_reap - t0, "release_ms": released - t0, "start_delay_ms": None, "helper": bool(helper)}
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


class BareFreeRun:
    """The kernel's own floor, without cleave (hack/bench/parallel-free.c): a program that
    touches `size` of 4 KiB pages, then either is killed (threads 0: exit_mmap() on one CPU,
    like the synchronous teardown) or, on SIGUSR1, frees it from `threads` threads with
    MADV_DONTNEED and exits. Signal to reap, like the cleave rows."""

    def __init__(self, program, threads, size):
        self.program, self.threads, self.size = program, threads, size

    def measure(self):
        proc = subprocess.Popen([self.program, str(self.size // MiB), str(self.threads)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            line = proc.stdout.readline().decode()
            if not line.startswith("ready"):
                raise RuntimeError(f"parallel-free {self.threads}: no ready line")
            t0 = now()
            os.kill(proc.pid, signal.SIGUSR1 if self.threads else signal.SIGKILL)
            proc.wait()
            t_reap = now()
            return {"exit_ms": None, "release_ms": t_reap - t0}
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def bare_name(threads):
    return "bare C, exit (SIGKILL)" if threads == 0 else f"bare C, {threads} threads MADV_DONTNEED"


def release_workers(args, cleave, quick, reps):
    """Release time (SIGKILL until the helper, and so its workers, are gone) at 4 and 8 GiB
    of 4 KiB pages: sync against async with 1, 2, ... workers up to the cores, interleaved; and
    sync against 1 worker with the whole run confined to one CPU. With --parallel-free, the
    same release without cleave in the same rounds: what the kernel allows on this machine."""
    sizes = [1024 * MiB] if quick else [4096 * MiB, 8192 * MiB]
    counts = [1, 2] + [n for n in (4, 8) if n <= (os.cpu_count() or 1)]
    variants = [(0, False)] + [(n, False) for n in counts]
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        variants += [(0, True), (1, True)]
    bare = getattr(args, "parallel_free", None)
    if bare:
        variants += [("bare", 0)] + [("bare", n) for n in counts if n > 1]
    rows = []
    for size in sizes:
        samples = {v: [] for v in variants}
        for _ in range(reps):
            for v in variants:
                try:
                    run = BareFreeRun(bare, v[1], size) if v[0] == "bare" else WorkersRun(args, cleave, v[0], size, v[1])
                    samples[v].append(run.measure())
                except Exception as e:
                    print(f"bench: workers {v} {size // MiB}M: {e}", file=sys.stderr)
        for v in variants:
            s = samples[v]
            if v[0] == "bare":
                rows.append({"variant": bare_name(v[1]), "bare_threads": v[1], "one_cpu": False,
                             "workers": None, "size_mib": size // MiB,
                             "release_ms": stats([x["release_ms"] for x in s]), "exit_ms": None, "runs": len(s)})
                continue
            w, one_cpu = v
            name = "cleave-sync" if w == 0 else f"cleave-async, {w} worker{'s' if w > 1 else ''}"
            rows.append({"variant": name + (", one CPU" if one_cpu else ""), "one_cpu": one_cpu,
                         "workers": w, "size_mib": size // MiB,
                         "release_ms": stats([x["release_ms"] for x in s]),
                         "exit_ms": stats([x["exit_ms"] for x in s]), "runs": len(s)})
        print(f"bench: release workers {size // MiB} MiB: done", file=sys.stderr, flush=True)
    return rows


def bare_ratio(rows, size_mib, threads):
    """The bare program's release from `threads` threads over its exit, same size: the kernel's floor."""
    get = lambda t: next((x["release_ms"] for x in rows if x["size_mib"] == size_mib and x.get("bare_threads") == t), None)
    par, ex = get(threads), get(0)
    return par["median"] / ex["median"] if par and ex else None


def workers_table(rows):
    md = ["| size | variant | release time | exit latency | release / sync | target |", "|---|---|---|---|---|---|"]
    for r in rows:
        if "bare_threads" in r:
            # Against the bare exit: the ratio the kernel allows here, for the 2-worker target.
            q = bare_ratio(rows, r["size_mib"], r["bare_threads"]) if r["bare_threads"] else None
            ratio = f"{q:.2f}×" if q else ""
            md.append(f"| {r['size_mib']} MiB | {r['variant']} | {fmt(r['release_ms'])} | — | {ratio} | "
                      f"{'the floor without cleave' if r['bare_threads'] else ''} |")
            continue
        sync = next((x for x in rows if x["size_mib"] == r["size_mib"] and x["workers"] == 0
                     and x.get("one_cpu", False) == r.get("one_cpu", False)), None)
        ratio, target = "", ""
        if sync and sync["release_ms"] and r["release_ms"] and r["workers"]:
            q = r["release_ms"]["median"] / sync["release_ms"]["median"]
            ratio = f"{q:.2f}×"
            if r["workers"] == 1:
                target = "≤ 1.05× " + ("met" if q <= 1.05 else "missed")
            elif r["workers"] == 2 and not r.get("one_cpu"):
                target = "≤ 0.65× " + ("met" if q <= 0.65 else "missed")
                floor = bare_ratio(rows, r["size_mib"], 2)
                if floor:
                    target += f" (without cleave, same rounds: {floor:.2f}×)"
        md.append(f"| {r['size_mib']} MiB | {r['variant']} | {fmt(r['release_ms'])} | {fmt(r['exit_ms'])} | {ratio} | {target} |")
    return md


def workers_plot(rows, out, machine):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("bench: matplotlib missing: no workers plot", file=sys.stderr)
        return
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for size in sorted({r["size_mib"] for r in rows}):
        pts = [(r["workers"], r["release_ms"]["median"]) for r in rows
               if r["size_mib"] == size and r["workers"] and r["release_ms"] and not r.get("one_cpu")]
        sync = next((r for r in rows if r["size_mib"] == size and r["workers"] == 0 and r["release_ms"] and not r.get("one_cpu")), None)
        line = ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"async, {size} MiB")
        if sync:
            ax.axhline(sync["release_ms"]["median"], linestyle="--", color=line[0].get_color(), alpha=0.6, label=f"sync, {size} MiB")
        bare = [(r["bare_threads"], r["release_ms"]["median"]) for r in rows
                if r["size_mib"] == size and r.get("bare_threads") and r["release_ms"]]
        if bare:
            ax.plot([p[0] for p in bare], [p[1] for p in bare], marker="x", linestyle=":", color=line[0].get_color(),
                    label=f"without cleave (threads), {size} MiB")
    ax.set_xticks(sorted({r["workers"] for r in rows if r["workers"]}))
    ax.set_xlabel("release workers (--teardown-workers)")
    ax.set_ylabel("release time, ms (median)")
    ax.set_title(f"parallel release, 4 KiB pages, SIGKILL — {machine['cores']} cores")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "release-workers.png"), dpi=110)


class RealRun:
    """One real program (JVM, Redis, Node, Python) with about `size` bytes touched, started
    through `cleave run --teardown async|sync`, or directly with the preload alone
    (LD_PRELOAD, no cleave: its parent is this script). Ended with SIGKILL to the program;
    measured like Run: signal to the manager's reap, and until the helper is gone."""

    def __init__(self, cleave, library, program, variant, size, tmp):
        self.cleave, self.library, self.program, self.variant, self.size, self.tmp = cleave, library, program, variant, size, tmp
        self.port = None

    def program_argv(self):
        mib = self.size // MiB
        if self.program.startswith("jvm"):
            thp = ["-XX:+UseTransparentHugePages"] if self.program == "jvm-thp" else ["-XX:-UseTransparentHugePages"]
            return ["java", f"-Xms{mib}m", f"-Xmx{mib}m", "-XX:+AlwaysPreTouch", "-XX:+UseSerialGC"] + thp + \
                   ["-cp", self.tmp, "Prog"]
        if self.program == "redis":
            self.port = free_port()
            return ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
                    "--daemonize", "no", "--enable-debug-command", "local", "--dir", self.tmp, "--logfile", ""]
        if self.program == "node":
            return ["node", "-e", f"const b = Buffer.alloc({mib} * 1048576, 1); console.log('ready'); setInterval(() => b[0]++, 1e6);"]
        return ["/usr/bin/python3", "-c", f"import time\ndata = bytearray(b'\\x01') * ({mib} << 20)\nprint('ready', flush=True)\ntime.sleep(600)\n"]

    def measure(self):
        env = dict(os.environ)
        argv = self.program_argv()
        if self.variant == "preload-only":
            env["LD_PRELOAD"] = self.library + (":" + env["LD_PRELOAD"] if env.get("LD_PRELOAD") else "")
        else:
            mode = "async" if self.variant == "cleave-async" else "sync"
            argv = [self.cleave, "run", "--teardown", mode, "--cgroup", f"cleave-bench-real/{self.program}-{os.getpid()}-{time.monotonic_ns()}", "--"] + argv
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        try:
            if self.program == "redis":
                end = time.monotonic() + 60
                while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True).stdout.strip() != "PONG":
                    if time.monotonic() > end or proc.poll() is not None:
                        raise RuntimeError("redis did not answer PING")
                    time.sleep(0.05)
                keys = self.size // 1300  # 1 KiB values, about 1.3 KiB each with Redis's overhead
                r = subprocess.run(["redis-cli", "-p", str(self.port), "debug", "populate", str(keys), "k", "1024"],
                                   capture_output=True, text=True, timeout=600)
                if not r.stdout.startswith("OK"):
                    raise RuntimeError(f"DEBUG POPULATE: {r.stdout} {r.stderr}")
            else:
                line = proc.stdout.readline().decode()
                if not line.startswith("ready"):
                    raise RuntimeError(f"{self.program}: no ready line")
            # The program: this script's child (preload alone) or cleave's.
            workload = proc.pid
            if self.variant != "preload-only":
                kids = [c for c in children(proc.pid) if not is_cleaves_own(c)]
                if len(kids) != 1:
                    raise RuntimeError(f"expected one program under cleave, found {kids}")
                workload = kids[0]
            helper = find_helper(workload, 5.0) if self.variant != "cleave-sync" else None
            if self.variant != "cleave-sync" and not helper:
                raise RuntimeError("no cleanup/<pid> helper")
            t0 = now()
            os.kill(workload, signal.SIGKILL)
            proc.wait()
            return figures(t0, now(), helper)
        finally:
            if proc.poll() is None:
                # A failed run: end the program itself, so that cleave reaps it and removes
                # its cgroup (a SIGKILLed cleave would leave the program running).
                for c in children(proc.pid):
                    if not is_cleaves_own(c):
                        os.kill(c, signal.SIGKILL)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


REAL_PROGRAMS = ["jvm-4k", "jvm-thp", "redis", "node", "python"]
REAL_VARIANTS = ["cleave-sync", "cleave-async", "preload-only"]


def real_programs(cleave, quick, reps):
    """The real-program table: each program, each variant, interleaved (A B C A B C ...)."""
    library = os.path.join(os.path.dirname(os.path.abspath(cleave)), "libcleave-teardown.so")
    size = 256 * MiB if quick else 2048 * MiB
    missing = {"jvm-4k": "java", "jvm-thp": "java", "redis": "redis-server", "node": "node", "python": "/usr/bin/python3"}
    rows, notes = [], {}
    tmp = tempfile.mkdtemp(prefix="cleave-bench-real-")
    try:
        if shutil.which("java"):
            # Compiled once (the JRE has javac's module, not the javac launcher): each run
            # then starts the class, without the source launcher's in-memory compilation.
            with open(os.path.join(tmp, "Prog.java"), "w") as f:
                f.write('public class Prog { public static void main(String[] a) throws Exception {'
                        ' System.out.println("ready"); System.out.flush(); Thread.sleep(600_000); } }\n')
            with open(os.path.join(tmp, "Compile.java"), "w") as f:
                f.write('public class Compile { public static void main(String[] a) {'
                        ' System.exit(javax.tools.ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", a[0], a[1])); } }\n')
            subprocess.run(["java", os.path.join(tmp, "Compile.java"), tmp, os.path.join(tmp, "Prog.java")], check=True)
        for program in REAL_PROGRAMS:
            if not shutil.which(missing[program]) or (program == "redis" and not shutil.which("redis-cli")):
                notes[program] = f"not measured: {missing[program]} is not installed (hack/setup.sh installs it)"
                continue
            samples = {v: [] for v in REAL_VARIANTS}
            for _ in range(reps):
                for v in REAL_VARIANTS:
                    try:
                        samples[v].append(RealRun(cleave, library, program, v, size, tmp).measure())
                    except Exception as e:  # a failed run is reported, not hidden
                        print(f"bench: {program} {v}: {e}", file=sys.stderr)
            for v in REAL_VARIANTS:
                s = samples[v]
                rows.append({"program": program, "variant": v, "size_mib": size // MiB,
                             "exit_ms": stats([x["exit_ms"] for x in s]),
                             "release_ms": stats([x["release_ms"] for x in s]),
                             "start_delay_ms": stats([x["start_delay_ms"] for x in s if x["helper"]]),
                             "runs": len(s)})
            print(f"bench: real program {program}: done", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        mount = "/sys/fs/cgroup/unified" if os.path.isdir("/sys/fs/cgroup/unified") else "/sys/fs/cgroup"
        # Async runs leave their cgroups to detached watchers: let them finish, then remove the parent.
        for _ in range(200):
            try:
                os.rmdir(f"{mount}/cleave-bench-real")
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.05)
    return rows, notes


def real_table(rows, notes, reps):
    md = [f"Real programs, SIGKILL to the program; {reps} interleaved runs per variant; median (min–max), milliseconds. "
          "`preload-only`: started with `LD_PRELOAD=libcleave-teardown.so` by the benchmark itself, no cleave, no cgroup; "
          "its exit latency is signal to the benchmark's own `waitpid`.", "",
          "| program | size | variant | stop latency | release time | teardown start delay |", "|---|---|---|---|---|---|"]
    for r in rows:
        md.append(f"| {r['program']} | {r['size_mib']} MiB | {r['variant']} | {fmt(r['exit_ms'])} | {fmt(r['release_ms'])} | "
                  f"{fmt(r['start_delay_ms'])} |")
    for k, v in notes.items():
        md.append(f"| {k} | | {v} | | | |")
    ratios = []
    for program in REAL_PROGRAMS:
        get = lambda v: next((r for r in rows if r["program"] == program and r["variant"] == v), None)
        s, a, p = get("cleave-sync"), get("cleave-async"), get("preload-only")
        if s and a and s["exit_ms"] and a["exit_ms"] and s["release_ms"] and a["release_ms"]:
            line = (f"- {program}: async/sync stop latency {a['exit_ms']['median'] / s['exit_ms']['median']:.3f}; "
                    f"async release time {100 * (a['release_ms']['median'] / s['release_ms']['median'] - 1):+.1f}% against sync")
            if p and p["exit_ms"]:
                line += f"; preload alone {p['exit_ms']['median']:.2f} ms stop latency"
            ratios.append(line)
    if ratios:
        md += ["", "Ratios (medians, same run):", ""] + ratios
    return md


# --- Injection rows (issue 16): static programs, which LD_PRELOAD cannot reach, and running ones.

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "CleaveRuntimeTests", "Fixtures")


def build_static(tmp, name, flags=()):
    """A test fixture built with cc -static: no PT_INTERP, so cleave run injects its helper."""
    out = os.path.join(tmp, name)
    subprocess.run(["cc", "-O1", "-static", *flags, "-o", out, os.path.join(FIXTURES, name + ".c")], check=True)
    return out


def wait_gone(pid, timeout=120):
    """Waits on a pidfd until `pid` has exited (the helper: the memory is back); ms, or None."""
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return now()
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
        return now() if ready else None
    finally:
        os.close(fd)


def injected_run(cleave, program, mode, size):
    """`cleave run --teardown MODE` of the static alloc_and_wait holding `size`: SIGKILL to the
    program until cleave has reaped it (exit latency), and until its injected helper is gone
    (release time; the reap for sync)."""
    cg = f"cleave-bench-inject/{mode}-{os.getpid()}-{time.monotonic_ns()}"
    proc = subprocess.Popen([cleave, "run", "--teardown", mode, "--cgroup", cg, "--", program, str(size // MiB), "--ready"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = proc.stdout.readline().decode()
        if not line.startswith("ready"):
            raise RuntimeError(f"no ready line: {proc.stderr.read().decode().strip()}" if proc.poll() is not None else "no ready line")
        workload = int(line.split()[1])
        helper = find_helper(workload, 5.0) if mode == "async" else None
        if mode == "async" and not helper:
            raise RuntimeError("no injected cleanup/<pid> helper")
        t0 = now()
        os.kill(workload, signal.SIGKILL)
        proc.wait()
        t_reap = now()
        released = wait_gone(helper) if helper else t_reap
        return {"exit_ms": t_reap - t0, "release_ms": None if released is None else released - t0}
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def attached_run(cleave, target, size, attach):
    """A static program holding `size`, busy in user space, started by this script: with
    `attach`, `cleave attach --json` gives it a helper (its pause and stop latency, in ms),
    then SIGKILL until our reap, and until the helper is gone."""
    proc = subprocess.Popen([target, "busy", str(size // MiB), "600"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        if not proc.stdout.readline().decode().startswith("ready"):
            raise RuntimeError("inject_target: no ready line")
        row = {"pause_ms": None, "stop_ms": None}
        helper = None
        if attach:
            r = subprocess.run([cleave, "attach", str(proc.pid), "--json"], capture_output=True, text=True, timeout=60)
            if r.returncode != 0:
                raise RuntimeError(f"cleave attach: {r.stderr.strip()}")
            doc = json.loads(r.stdout)
            row = {"pause_ms": doc["pauseMicroseconds"] / 1000, "stop_ms": doc["stopMicroseconds"] / 1000}
            helper = doc["helper"]
        t0 = now()
        proc.kill()
        proc.wait()
        t_reap = now()
        released = wait_gone(helper) if helper else t_reap
        row.update({"exit_ms": t_reap - t0, "release_ms": None if released is None else released - t0})
        return row
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def injection_rows(cleave, quick, reps):
    """(a) `cleave run` of a static program, async (helper injected at exec) against sync; (b)
    `cleave attach` of a running static program: the pause, then SIGKILL-to-reap against no
    helper. Variants interleaved; 2 GiB (256 MiB with --quick)."""
    size = 256 * MiB if quick else 2048 * MiB
    tmp = tempfile.mkdtemp(prefix="cleave-bench-inject-")
    samples = {k: [] for k in ("run-async", "run-sync", "attach", "no-attach")}
    try:
        program = build_static(tmp, "alloc_and_wait")
        target = build_static(tmp, "inject_target", ["-pthread"])
        for _ in range(reps):
            for mode in ("async", "sync"):
                try:
                    samples[f"run-{mode}"].append(injected_run(cleave, program, mode, size))
                except Exception as e:  # a failed run is reported, not hidden
                    print(f"bench: static run {mode}: {e}", file=sys.stderr)
            for key in ("attach", "no-attach"):
                try:
                    samples[key].append(attached_run(cleave, target, size, key == "attach"))
                except Exception as e:
                    print(f"bench: {key}: {e}", file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        mount = "/sys/fs/cgroup/unified" if os.path.isdir("/sys/fs/cgroup/unified") else "/sys/fs/cgroup"
        for _ in range(200):  # async runs leave their cgroups to detached watchers
            try:
                os.rmdir(f"{mount}/cleave-bench-inject")
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.05)
    labels = {"run-async": "cleave run --teardown async (injected at exec)", "run-sync": "cleave run --teardown sync",
              "attach": "cleave attach, then SIGKILL", "no-attach": "no helper (SIGKILL, reaped by the benchmark)"}
    rows = []
    for key, s in samples.items():
        row = {"variant": labels[key], "key": key, "size_mib": size // MiB, "runs": len(s),
               "exit_ms": stats([x["exit_ms"] for x in s]), "release_ms": stats([x["release_ms"] for x in s])}
        if key == "attach":
            row["pause_ms"] = stats([x["pause_ms"] for x in s])
            row["stop_ms"] = stats([x["stop_ms"] for x in s])
        rows.append(row)
    print("bench: injection rows: done", file=sys.stderr, flush=True)
    return rows


def injection_table(rows, reps):
    md = [f"Static programs (`cc -static`, no `PT_INTERP`: `LD_PRELOAD` cannot reach them) and running ones; {reps} "
          "interleaved runs per variant; SIGKILL to the program; median (min–max), milliseconds. Exit latency is "
          "signal to the reap (by cleave, or by the benchmark for the attached program, its parent); release time "
          "is signal until the helper is gone.", "",
          "| size | variant | exit latency | release time | target's pause (attach) | stop latency (attach) |",
          "|---|---|---|---|---|---|"]
    for r in rows:
        md.append(f"| {r['size_mib']} MiB | {r['variant']} | {fmt(r['exit_ms'])} | {fmt(r['release_ms'])} | "
                  f"{fmt(r.get('pause_ms'))} | {fmt(r.get('stop_ms'))} |")
    get = lambda k: next((r for r in rows if r["key"] == k and r["exit_ms"]), None)
    ratios = []
    for a, s, what in (("run-async", "run-sync", "cleave run"), ("attach", "no-attach", "cleave attach")):
        ra, rs = get(a), get(s)
        if ra and rs:
            ratios.append(f"- {what}: async/sync exit latency {ra['exit_ms']['median'] / rs['exit_ms']['median']:.3f}")
    return md + (["", "Ratios (medians, same run):", ""] + ratios if ratios else [])


def stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def spawn_once(argv):
    """Starts argv with posix_spawn (stdout and stderr to /dev/null) and reaps it: the same
    harness for every variant, so the bare posix_spawn row is the floor. Returns (ms, ok)."""
    devnull = [(os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0), (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0)]
    t0 = now()
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=devnull)
    _, status = os.waitpid(pid, 0)
    return now() - t0, os.waitstatus_to_exitcode(status) == 0


def crun_bundle(tmp):
    """A minimal OCI bundle: busybox-static in a tmpfs rootfs, process.args ["/bin/true"] (a busybox
    applet), no network namespace (nothing to configure), no terminal."""
    bundle = os.path.join(tmp, "bundle")
    os.makedirs(bundle + "/rootfs/bin", exist_ok=True)
    shutil.copy("/bin/busybox", bundle + "/rootfs/bin/busybox")
    os.symlink("busybox", bundle + "/rootfs/bin/true")
    subprocess.run(["crun", "spec"], cwd=bundle, check=True)
    with open(bundle + "/config.json") as f:
        spec = json.load(f)
    spec["process"]["args"] = ["/bin/true"]
    spec["process"]["terminal"] = False
    spec["linux"]["namespaces"] = [n for n in spec["linux"]["namespaces"] if n["type"] != "network"]
    with open(bundle + "/config.json", "w") as f:
        json.dump(spec, f)
    return bundle


def spawn_costs(cleave, reps, tmp, baseline=None):
    """Start and reap /bin/true, creating and removing a cgroup each time as each tool does.
    `baseline`: another cleave build (with its libcleave-teardown.so beside it), measured in the same rounds."""
    mount = "/sys/fs/cgroup/unified" if os.path.isdir("/sys/fs/cgroup/unified") else "/sys/fs/cgroup"
    variants = {"posix_spawn": lambda i: ["/bin/true"]}
    for label, exe, tag in [("", cleave, "")] + ([(" (baseline build)", baseline, "b")] if baseline else []):
        for mode in ("sync", "async"):
            variants[f"cleave run --teardown {mode}{label}"] = (
                lambda i, exe=exe, mode=mode, tag=tag: [exe, "run", "--teardown", mode, "--cgroup", f"cleave-bench/{tag}{mode[0]}{i}", "--", "/bin/true"])
    ctl = open(f"{mount}/cgroup.controllers").read().split()
    if shutil.which("cgexec") and ctl:
        c = "memory" if "memory" in ctl else ctl[0]
        variants["cgcreate + cgexec + cgdelete"] = lambda i: ["sh", "-c", f"cgcreate -g {c}:/cleave-bench-cg{i} && cgexec -g {c}:/cleave-bench-cg{i} /bin/true; cgdelete -g {c}:/cleave-bench-cg{i}"]
    if shutil.which("systemd-run") and os.path.isdir("/run/systemd/system"):
        variants["systemd-run --scope"] = lambda i: ["systemd-run", "--scope", "--quiet", "/bin/true"]
    notes = {}
    if not os.path.isdir("/run/systemd/system"):
        notes["systemd-run --scope"] = "not measured: systemd is not running on this machine"
    if shutil.which("crun"):
        bundle = crun_bundle(tmp)
        probe = subprocess.run(["crun", "run", "--bundle", bundle, "cleave-bench-probe"], capture_output=True, text=True)
        subprocess.run(["crun", "delete", "--force", "cleave-bench-probe"], capture_output=True)
        if probe.returncode == 0:
            variants["crun run"] = lambda i: ["crun", "run", "--bundle", bundle, f"cleave-bench-{i}"]
        else:
            notes["crun run"] = "not measured: " + (probe.stderr.strip().splitlines() or ["failed"])[-1]
    results = {k: [] for k in variants}
    # One untimed round first: the VM guest reads every binary over 9p the first time. Each
    # round in its own random order: what one run leaves running for a moment (a detached
    # watcher, cleave's exit keeper) then falls on no variant in particular.
    rng = random.Random(reps)
    for i in ["warm"] + list(range(reps)):
        order = list(variants.items())
        if i != "warm":
            rng.shuffle(order)
        for name, make in order:
            dt, ok = spawn_once(make(i))
            if ok and i != "warm":
                results[name].append(dt)
            if name == "crun run":  # crun run removes its container on exit; make sure, untimed
                subprocess.run(["crun", "delete", "--force", f"cleave-bench-{i}"], capture_output=True)
    # Async runs leave the cgroup to a detached watcher: let it finish, then remove the parents.
    parent = f"{mount}/cleave-bench"
    for _ in range(100):
        if not os.path.isdir(parent) or not [d for d in os.listdir(parent) if os.path.isdir(f"{parent}/{d}")]:
            break
        time.sleep(0.05)
    # The benchmark's runs used cleave's default parent too: leave no empty cgroup behind.
    for leftover in ("cleave-bench", "cleave"):
        try:
            os.rmdir(f"{mount}/{leftover}")
        except OSError:
            pass
    return {k: stats(v) for k, v in results.items()}, notes


def spawn_table(spawn, notes):
    """Markdown rows: the time, the ratio to posix_spawn and the overhead above it (medians)."""
    base = (spawn.get("posix_spawn") or {}).get("median")
    md = ["| how | time (ms) | × posix_spawn | above posix_spawn (ms) |", "|---|---|---|---|"]
    for k, v in spawn.items():
        ratio = f"{v['median'] / base:.1f}" if v and base else "—"
        above = f"{v['median'] - base:+.2f}" if v and base else "—"
        md.append(f"| {k} | {fmt(v)} | {ratio} | {above} |")
    for k, v in notes.items():
        md.append(f"| {k} | {v} | | |")
    return md


def helper_init_costs(tool, reps):
    out = {}
    for n in (10, 10000):
        vals = []
        for _ in range(reps):
            r = subprocess.run([tool, str(n)], capture_output=True, text=True)
            if r.returncode == 0:
                vals.append(float(r.stdout.strip()) / 1000.0)
        out[f"{n} descriptors"] = stats(vals)
    return out


def fmt(s, key="median"):
    if not s:
        return "—"
    return f"{s['median']:.2f} ({s['min']:.2f}–{s['max']:.2f})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cleave", required=True)
    ap.add_argument("--helper-init")
    ap.add_argument("--parallel-free", help="hack/bench/parallel-free.c, built: the parallel release without cleave")
    ap.add_argument("--out")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--spawn-only", action="store_true",
                    help="measure the spawn cost only and print it as one JSON line (hack/bench.sh runs this in the VM)")
    ap.add_argument("--baseline", help="another cleave binary to measure beside --cleave in the spawn rounds (before/after)")
    ap.add_argument("--vm-spawn", help="file with the --spawn-only output of the VM run, merged into the results")
    ap.add_argument("--workers-only", action="store_true",
                    help="only the parallel-release rows (results-workers.md/.json and release-workers.png)")
    ap.add_argument("--inject-only", action="store_true",
                    help="only the injection rows: static programs under cleave run, cleave attach's pause (results-inject.md/.json)")
    ap.add_argument("--real-only", action="store_true",
                    help="measure the real-program table only (JVM, Redis, Node, Python); write results-real.json and results-real.md")
    a = ap.parse_args()
    real_reps = 2 if a.quick else a.reps
    if a.real_only:
        if not a.out:
            ap.error("--out is required")
        real, real_notes = real_programs(a.cleave, a.quick, real_reps)
        os.makedirs(a.out, exist_ok=True)
        json.dump({"quick": a.quick, "reps": real_reps, "real_programs": real, "real_notes": real_notes},
                  open(os.path.join(a.out, "results-real.json"), "w"), indent=2)
        table = "\n".join(real_table(real, real_notes, real_reps)) + "\n"
        open(os.path.join(a.out, "results-real.md"), "w").write(table)
        print(table)
        return

    if a.inject_only:
        if not a.out:
            ap.error("--out is required")
        os.makedirs(a.out, exist_ok=True)
        machine = {"cores": os.cpu_count(), "kernel": platform.release(), "load": open("/proc/loadavg").read().split()[:3]}
        inject_reps = 3 if a.quick else a.reps
        rows = injection_rows(a.cleave, a.quick, inject_reps)
        json.dump({"machine": machine, "quick": a.quick, "reps": inject_reps, "injection": rows},
                  open(os.path.join(a.out, "results-inject.json"), "w"), indent=2)
        table = "\n".join([f"Machine: {machine['cores']} cores, kernel {machine['kernel']}, load average "
                           f"{' '.join(machine['load'])} at the start.", ""] + injection_table(rows, inject_reps)) + "\n"
        open(os.path.join(a.out, "results-inject.md"), "w").write(table)
        print(table)
        return

    if a.workers_only:
        if not a.out:
            ap.error("--out is required")
        os.makedirs(a.out, exist_ok=True)
        machine = {"cores": os.cpu_count(), "kernel": platform.release(),
                   "load": open("/proc/loadavg").read().split()[:3]}
        rows = release_workers(a, a.cleave, a.quick, 3 if a.quick else a.reps)
        json.dump({"machine": machine, "release_workers": rows}, open(os.path.join(a.out, "results-workers.json"), "w"), indent=2)
        table = "\n".join([f"Machine: {machine['cores']} cores, kernel {machine['kernel']}, load average {' '.join(machine['load'])} "
                           f"at the start; median (min–max), milliseconds.", ""] + workers_table(rows)) + "\n"
        open(os.path.join(a.out, "results-workers.md"), "w").write(table)
        print(table)
        workers_plot(rows, a.out, machine)
        return

    # The host's rounds are cheap (a few ms each) and the target is a fraction of a millisecond:
    # 200 rounds keep its median steady. The VM guest (TCG) takes ~100 ms a start: 20 rounds there.
    spawn_reps = (5 if a.quick else 20) if a.spawn_only else (30 if a.quick else 200)
    if a.spawn_only:
        # In the VM guest /run is a fresh tmpfs: the crun bundle's rootfs lives there.
        tmp = tempfile.mkdtemp(dir="/run" if os.path.ismount("/run") else None)
        try:
            spawn, notes = spawn_costs(a.cleave, spawn_reps, tmp, a.baseline)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        print("CLEAVE-BENCH-SPAWN " + json.dumps({"kernel": platform.release(), "cores": os.cpu_count(),
                                                   "reps": spawn_reps, "spawn_ms": spawn, "spawn_notes": notes}))
        return
    if not (a.helper_init and a.out):
        ap.error("--helper-init and --out are required")
    vm_spawn = None
    if a.vm_spawn:
        lines = [l for l in open(a.vm_spawn) if l.startswith("CLEAVE-BENCH-SPAWN ")]
        vm_spawn = json.loads(lines[-1].split(" ", 1)[1]) if lines else {"error": "the VM run printed no result"}

    sizes = [256 * MiB, 1024 * MiB] if a.quick else [256 * MiB, 1024 * MiB, 4096 * MiB, 8192 * MiB]
    pages = ["4k", "thp"]
    ends = ["kill"] if a.quick else ["kill", "exit"]
    reps = 3 if a.quick else a.reps
    thp_mode = open("/sys/kernel/mm/transparent_hugepage/enabled").read().strip()
    have_qemu = shutil.which("qemu-system-x86_64") is not None

    rows = []
    for size in sizes:
        for page in pages:
            for end in ends:
                variants = exit_variants(a, page, have_qemu)
                samples = {v: [] for v in variants}
                for _ in range(reps):
                    for v in variants:
                        try:
                            samples[v].append(exit_run(a, v, size, page, end).measure())
                        except Exception as e:  # a failed run is reported, not hidden
                            print(f"bench: {v} {size // MiB}M {page} {end}: {e}", file=sys.stderr)
                for v in variants:
                    s = samples[v]
                    rows.append({"variant": v, "size_mib": size // MiB, "pages": page, "end": end,
                                 "exit_ms": stats([x["exit_ms"] for x in s]),
                                 "release_ms": stats([x["release_ms"] for x in s]),
                                 "start_delay_ms": stats([x["start_delay_ms"] for x in s if x["helper"]]),
                                 "runs": len(s)})
                print(f"bench: {size // MiB} MiB {page} {end}: done", file=sys.stderr, flush=True)

    workers = release_workers(a, a.cleave, a.quick, reps)

    real, real_notes = real_programs(a.cleave, a.quick, real_reps)

    injection = injection_rows(a.cleave, a.quick, reps)

    tmp = tempfile.mkdtemp()
    try:
        spawn, spawn_notes = spawn_costs(a.cleave, spawn_reps, tmp, a.baseline)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    init = helper_init_costs(a.helper_init, 5 if a.quick else 20)

    os.makedirs(a.out, exist_ok=True)
    machine = {"cores": os.cpu_count(), "kernel": platform.release(), "thp": thp_mode,
               "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30)),
               "note": "shared VM; nothing else of ours ran during the benchmark"}
    doc = {"machine": machine, "quick": a.quick, "reps": reps, "teardown": rows, "spawn_ms": spawn,
           "spawn_notes": spawn_notes, "vm_spawn": vm_spawn, "helper_init_ms": init,
           "real_programs": real, "real_notes": real_notes, "real_reps": real_reps, "release_workers": workers,
           "injection": injection}
    json.dump(doc, open(os.path.join(a.out, "results.json"), "w"), indent=2)

    md = [f"Machine: {machine['cores']} cores, {machine['memory_gib']} GiB, kernel {machine['kernel']}, THP `{thp_mode}`; "
          f"{reps} interleaved runs per variant; median (min–max), milliseconds.", "",
          "| size | pages | end | variant | exit latency | release time | teardown start delay |",
          "|---|---|---|---|---|---|---|"]
    for r in rows:
        md.append(f"| {r['size_mib']} MiB | {r['pages']} | {r['end']} | {r['variant']} | {fmt(r['exit_ms'])} | "
                  f"{fmt(r['release_ms'])} | {fmt(r['start_delay_ms'])} |")
    md += ["", "Ratios (medians, same run):", ""]
    for size in sizes:
        for page in pages:
            for end in ends:
                get = lambda v, k: next((r[k] for r in rows if r["variant"] == v and r["size_mib"] == size // MiB
                                         and r["pages"] == page and r["end"] == end), None)
                s, asy = get("cleave-sync", "exit_ms"), get("cleave-async", "exit_ms")
                rs, ra = get("cleave-sync", "release_ms"), get("cleave-async", "release_ms")
                if s and asy and rs and ra:
                    md.append(f"- {size // MiB} MiB {page} {end}: async/sync exit latency {asy['median'] / s['median']:.3f}; "
                              f"async release time {100 * (ra['median'] / rs['median'] - 1):+.1f}% against sync")
    md += ["", "Exit latency against the preload floor (medians, same run):", ""] + floor_lines(rows)
    md += ["", "Parallel release (`--teardown-workers`), 4 KiB pages, SIGKILL; release time until the helper and its "
           "workers are gone:", ""] + workers_table(workers)
    md += [""] + real_table(real, real_notes, real_reps)
    md += [""] + injection_table(injection, reps)
    md += ["", f"Spawn cost on this host, `/bin/true` started with posix_spawn and reaped, cgroup created and removed "
           f"each time; {spawn_reps} interleaved runs; median (min–max):", ""]
    md += spawn_table(spawn, spawn_notes)
    if vm_spawn and "spawn_ms" in vm_spawn:
        md += ["", f"Spawn cost inside the VM tier (`hack/vm.sh`: QEMU TCG guest, kernel {vm_spawn['kernel']}, pure cgroup v2, "
               f"{vm_spawn['cores']} vCPUs; {vm_spawn['reps']} interleaved runs). TCG emulation makes every figure several "
               "times slower than on the host: compare ratios, not milliseconds:", ""]
        md += spawn_table(vm_spawn["spawn_ms"], vm_spawn["spawn_notes"])
    elif vm_spawn:
        md += ["", f"Spawn cost inside the VM tier: not measured: {vm_spawn['error']}"]
    md += ["", "`cleave_teardown_init()` in the workload:", "", "| open descriptors | time (ms) |", "|---|---|"]
    for k, v in init.items():
        md.append(f"| {k} | {fmt(v)} |")
    table = "\n".join(md) + "\n"
    open(os.path.join(a.out, "results.md"), "w").write(table)
    print(table)

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
        for ax, key, title in ((axes[0], "exit_ms", "exit latency (signal → reap)"),
                               (axes[1], "release_ms", "release time (signal → memory back)")):
            for v in (PRELOAD_FLOOR, "cleave-sync", "cleave-async", "qemu-sync", "qemu-async"):
                for page in pages:
                    pts = [(r["size_mib"], r[key]["median"]) for r in rows
                           if r["variant"] == v and r["pages"] == page and r["end"] == "kill" and r[key]]
                    if pts:
                        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"{v} ({page})")
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel("touched memory (MiB)")
            ax.set_ylabel("ms (median)")
            ax.set_title(title)
            ax.grid(True, which="both", alpha=0.3)
        axes[1].legend(fontsize=7)
        fig.suptitle(f"cleave teardown, SIGKILL — {machine['cores']} cores, kernel {machine['kernel']}")
        fig.tight_layout()
        fig.savefig(os.path.join(a.out, "teardown.png"), dpi=110)
        workers_plot(workers, a.out, machine)
    except ImportError:
        print("bench: matplotlib missing: no plot", file=sys.stderr)


if __name__ == "__main__":
    main()
