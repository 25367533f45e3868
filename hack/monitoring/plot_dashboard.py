#!/usr/bin/env python3
"""Renders the panels of manifests/grafana/cleave-dashboard.json from a recorded scrape
series (hack/monitoring/record_dashboard_series.sh) as one matplotlib figure: Grafana is
not in Debian's packages, so this stands in for a screenshot. Each panel computes what the
dashboard's PromQL computes, from the raw samples:
  teardowns in progress         cleave_teardowns_in_progress
  pending release vs node       cleave_node_memory_{pending_release,available,total}_bytes
  memory held by teardowns      cleave_teardown_memory_bytes, per cgroup
  teardown duration (heatmap)   increase of cleave_teardown_duration_seconds_bucket per window, by le
  working set per cgroup        topk(N, cleave_cgroup_memory_working_set_bytes)
  teardowns finished            cleave_teardowns_total
Usage: plot_dashboard.py [SERIES.jsonl] [OUTPUT.png]
  (default results/dashboard-series.jsonl, results/dashboard.png)
"""
import json
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

GIB = 1024 ** 3
MIB = 1024 ** 2
TOP = 6
HEATMAP_WINDOW = 10.0  # seconds: the dashboard's $__rate_interval, scaled to this short series


def load(path):
    scrapes, events = [], []
    with open(path) as f:
        for line in f:
            record = json.loads(line)
            if "scrape" in record:
                scrapes.append(record)
            elif "event" in record:
                events.append(record)
    if not scrapes:
        sys.exit(f"plot_dashboard: no scrape in {path}")
    return scrapes, events


def series(scrapes, name, label=None):
    """{label value: ([t], [v])} for a sample name (label=None: one series keyed '')."""
    out = defaultdict(lambda: ([], []))
    for s in scrapes:
        for sample_name, labels, value in s["scrape"]:
            if sample_name == name:
                key = labels.get(label, "") if label else ""
                out[key][0].append(s["t"])
                out[key][1].append(value)
    return out


def single(scrapes, name):
    return series(scrapes, name).get("", ([], []))


def mark_events(ax, events):
    for e in events:
        if e["event"].endswith("killed"):
            ax.axvline(e["t"], color="0.6", lw=0.6, ls=":")


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "results/dashboard-series.jsonl"
    dst = sys.argv[2] if len(sys.argv) > 2 else "results/dashboard.png"
    scrapes, events = load(src)
    t_end = scrapes[-1]["t"]
    fig, axes = plt.subplots(3, 2, figsize=(13, 11), constrained_layout=True)
    fig.suptitle(f"cleave dashboard panels, from {len(scrapes)} real scrapes of cleave agent "
                 f"(every 0.5 s) in the VM tier's guest (2 GiB) while `cleave run --teardown async` workloads are SIGKILLed (dotted lines).\n"
                 "QEMU TCG emulation (no KVM) on a shared 2-core host: allocation and teardown run far slower than on hardware", fontsize=10)

    ax = axes[0][0]
    t, v = single(scrapes, "cleave_teardowns_in_progress")
    ax.step(t, v, where="post", color="tab:red")
    ax.set_title("Teardowns in progress")
    ax.set_ylabel("teardowns")
    ax.yaxis.get_major_locator().set_params(integer=True)
    for e in events:
        if e["event"].endswith("running"):
            ax.annotate(e["event"].replace(" running", " starts"), (e["t"], 1), xycoords=("data", "axes fraction"),
                        xytext=(2, -4), textcoords="offset points", fontsize=7, rotation=90, va="top", color="0.3")
    mark_events(ax, events)

    ax = axes[0][1]
    for name, label, color in (("cleave_node_memory_total_bytes", "node total", "0.5"),
                               ("cleave_node_memory_available_bytes", "available (MemAvailable)", "tab:green"),
                               ("cleave_node_memory_pending_release_bytes", "pending release", "tab:red")):
        t, v = single(scrapes, name)
        ax.plot(t, np.array(v) / GIB, label=label, color=color)
    ax.set_title("Memory pending release against the node's memory")
    ax.set_ylabel("GiB")
    ax.legend(fontsize=8, loc="center right")
    mark_events(ax, events)

    ax = axes[1][0]
    for cgroup, (t, v) in sorted(series(scrapes, "cleave_teardown_memory_bytes", "cgroup").items()):
        # A series exists only while its cgroup is in teardown (one teardown per cgroup here).
        ax.plot(t, np.array(v) / MIB, marker=".", ms=4, lw=1, label=cgroup)
    ax.set_title("Memory held by teardowns, per cgroup")
    ax.set_ylabel("MiB")
    ax.set_xlim(0, t_end)
    ax.legend(fontsize=8)
    mark_events(ax, events)

    ax = axes[1][1]
    buckets = series(scrapes, "cleave_teardown_duration_seconds_bucket", "le")
    les = sorted((le for le in buckets if le != "+Inf"), key=float)
    if les:
        edges = np.arange(0, t_end + HEATMAP_WINDOW, HEATMAP_WINDOW)
        # Cumulative count per bucket at each window's end, then increase per window,
        # then per-bucket counts (the difference between neighbouring le's).
        def at(le, when):
            t, v = buckets[le]
            i = np.searchsorted(t, when, side="right") - 1
            return v[i] if i >= 0 else 0.0
        cumulative = np.array([[at(le, w) for w in edges] for le in les])
        increase = np.diff(cumulative, axis=1)
        per_bucket = np.vstack([increase[0], np.diff(increase, axis=0)])
        y_edges = [0.0] + [float(le) for le in les]
        rows = [i for i in range(len(les)) if float(les[i]) <= 30 or per_bucket[i].any()]
        grid = per_bucket[rows[0]:rows[-1] + 1]
        ys = np.arange(len(grid) + 1)
        mesh = ax.pcolormesh(edges, ys, np.ma.masked_equal(grid, 0), cmap="YlOrRd", vmin=0)
        ax.set_yticks(ys[1:] - 0.5, [f"≤{float(y_edges[r + 1]):g} s" for r in range(rows[0], rows[-1] + 1)], fontsize=7)
        fig.colorbar(mesh, ax=ax, label=f"teardowns ended per {HEATMAP_WINDOW:g} s")
    ax.set_title("Teardown duration (histogram buckets, heatmap)")
    mark_events(ax, events)

    ax = axes[2][0]
    ws = series(scrapes, "cleave_cgroup_memory_working_set_bytes", "cgroup")
    top = sorted(ws.items(), key=lambda kv: -max(kv[1][1]))[:TOP]
    for cgroup, (t, v) in top:
        ax.plot(t, np.array(v) / MIB, marker=".", ms=3, lw=1, label=cgroup)
    ax.set_title(f"Working set per cgroup (top {TOP})")
    ax.set_ylabel("MiB")
    ax.set_xlim(0, t_end)
    ax.legend(fontsize=7)
    mark_events(ax, events)

    ax = axes[2][1]
    t, v = single(scrapes, "cleave_teardowns_total")
    ax.step(t, v, where="post", color="tab:blue", label="finished (cleave_teardowns_total)")
    t, v = single(scrapes, "cleave_teardown_duration_seconds_sum")
    if t:
        ax2 = ax.twinx()
        ax2.step(t, v, where="post", color="tab:orange", label="total duration (…_seconds_sum)")
        ax2.set_ylabel("seconds")
        ax2.legend(fontsize=8, loc="lower right")
    ax.set_title("Teardowns finished")
    ax.set_ylabel("teardowns")
    ax.legend(fontsize=8, loc="upper left")
    mark_events(ax, events)

    for row in axes:
        for a in row:
            a.set_xlabel("seconds since the first scrape")
            a.grid(alpha=0.3)
    fig.savefig(dst, dpi=110)
    print(dst)


if __name__ == "__main__":
    main()
