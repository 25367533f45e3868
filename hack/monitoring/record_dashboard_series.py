#!/usr/bin/env python3
"""Records a real scrape series for plot_dashboard.py, inside the VM tier's guest (pure
cgroup v2 with the memory controller; hack/monitoring/record_dashboard_series.sh starts it).

`cleave agent` watches the whole hierarchy and is scraped every 0.5 s while workloads of a
few hundred MiB (`cleave probe alloc`) run under `cleave run --teardown async` and are
SIGKILLed, so their helpers free the memory in the background. Every scrape and every event
is one JSON line on stdout, prefixed with "SERIES " (the guest's console carries other lines).

Usage: record_dashboard_series.py BIN_DIR
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

PORT = 19464
INTERVAL = 0.5
PARENT = "cleave-dashboard"
# Per-cgroup CPU and OOM series are not plotted; everything else the agent exports is kept.
SKIP = ("cleave_cgroup_cpu_usage_seconds", "cleave_cgroup_oom_kills")

start = time.monotonic()
out_lock = threading.Lock()


def emit(record):
    record["t"] = round(time.monotonic() - start, 3)
    with out_lock:
        print("SERIES " + json.dumps(record, separators=(",", ":")), flush=True)


def get(path):
    with urllib.request.urlopen(f"http://127.0.0.1:{PORT}{path}", timeout=5) as response:
        return response.status, response.read().decode()


def scraper(stop):
    next_at = time.monotonic()
    while not stop.is_set():
        try:
            _, body = get("/metrics")
            samples = [[s.name, s.labels, s.value]
                       for family in text_string_to_metric_families(body)
                       if not family.name.startswith(SKIP)
                       for s in family.samples]
            emit({"scrape": samples})
        except OSError as error:
            emit({"error": str(error)})
        next_at += INTERVAL
        stop.wait(max(0.0, next_at - time.monotonic()))


def cgroup_mount():
    with open("/proc/self/mounts") as mounts:
        for line in mounts:
            fields = line.split()
            if fields[2] == "cgroup2":
                return fields[1]
    sys.exit("record_dashboard_series: no cgroup2 mount")


class Workload:
    """`cleave run --teardown async -- cleave probe alloc SIZE` in PARENT/NAME."""

    def __init__(self, bin_dir, name, size):
        self.name, self.size = name, size
        cleave = os.path.join(bin_dir, "cleave")
        self.run = subprocess.Popen([cleave, "run", "--cgroup", f"{PARENT}/{name}", "--teardown", "async",
                                     "--", cleave, "probe", "alloc", size],
                                    stdout=subprocess.PIPE, text=True)
        line = self.run.stdout.readline()
        if not line.startswith("ready "):
            sys.exit(f"record_dashboard_series: {name} did not become ready: {line!r}")
        self.pid = int(line.split()[1])
        emit({"event": f"{name} ({size}) running"})

    def end(self):
        os.kill(self.pid, signal.SIGKILL)
        self.run.wait(timeout=60)
        emit({"event": f"{self.name} killed"})


def settle(timeout=300):
    """Until no teardown is in progress (the helpers' pace is the emulator's), then 3 s more."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if [s.value for f in text_string_to_metric_families(get("/metrics")[1])
                    for s in f.samples if s.name == "cleave_teardowns_in_progress"] == [0]:
                break
        except OSError:
            pass
        time.sleep(0.5)
    time.sleep(3)


def main():
    bin_dir = sys.argv[1]
    parent = os.path.join(cgroup_mount(), PARENT)
    os.makedirs(parent, exist_ok=True)
    agent = subprocess.Popen([os.path.join(bin_dir, "cleave"), "agent", "--listen", f"127.0.0.1:{PORT}",
                              "--rescan", "5s"], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while True:
        try:
            if get("/readyz")[0] == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline or agent.poll() is not None:
            sys.exit("record_dashboard_series: the agent did not become ready")
        time.sleep(0.2)
    global start
    start = time.monotonic()
    stop = threading.Event()
    thread = threading.Thread(target=scraper, args=(stop,))
    thread.start()
    try:
        time.sleep(3)
        a = Workload(bin_dir, "vm-a", "512M")
        b = Workload(bin_dir, "vm-b", "256M")
        time.sleep(3)
        a.end()
        time.sleep(4)
        b.end()
        settle()
        c = Workload(bin_dir, "vm-c", "768M")
        time.sleep(3)
        c.end()
        settle()
        d = Workload(bin_dir, "vm-d", "384M")
        e = Workload(bin_dir, "vm-e", "384M")
        time.sleep(2)
        d.end()
        e.end()
        settle()
    finally:
        stop.set()
        thread.join()
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=30)


if __name__ == "__main__":
    main()
