#!/usr/bin/env python3
"""Checks that every PromQL expression of the Grafana dashboard and of the Prometheus rules
parses (promql-parser, the Rust parser's Python binding) and names only metrics the agent
exports (or, in the rules, series the rules record).

Usage: check_promql.py DASHBOARD.json RULES.yaml EXPORTED_NAMES_FILE
EXPORTED_NAMES_FILE: one exported sample name a line (histograms with _bucket/_sum/_count).
Exit 0 when all is well; 1 with one line per problem otherwise."""
import json
import re
import sys

import promql_parser
import yaml

# Grafana's macros and this dashboard's variables, replaced by valid PromQL before parsing.
GRAFANA = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h", "$instance": ".*"}


def expand(expr):
    for macro, value in GRAFANA.items():
        expr = expr.replace(macro, value)
    leftover = re.search(r"\$\w+", expr)
    if leftover:
        raise ValueError(f"unknown Grafana variable {leftover.group(0)}")
    return expr


def selectors(node, found):
    """Metric names of every vector selector below node."""
    if node is None:
        return found
    if type(node).__name__ == "VectorSelector" and node.name:
        found.add(node.name)
    for attr in ("expr", "lhs", "rhs", "vector_selector", "param", "args"):
        child = getattr(node, attr, None)
        for c in child if isinstance(child, list) else [child]:
            if c is not None and not isinstance(c, (str, int, float)):
                selectors(c, found)
    return found


def dashboard_expressions(dashboard):
    for panel in dashboard.get("panels", []):
        for target in panel.get("targets", []):
            yield f"panel {panel.get('title')!r} target {target.get('refId')}", target["expr"]
    for var in dashboard.get("templating", {}).get("list", []):
        query = var.get("query")
        text = query.get("query") if isinstance(query, dict) else None
        if var.get("type") == "query" and text:
            m = re.fullmatch(r"label_values\((.+),\s*\w+\)", text)
            if not m:
                yield f"variable {var['name']}", text
            else:
                yield f"variable {var['name']}", m.group(1)


def main():
    dashboard_path, rules_path, names_path = sys.argv[1:4]
    exported = {line.strip() for line in open(names_path) if line.strip()}
    rules = yaml.safe_load(open(rules_path))
    recorded = {r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r}
    problems, checked = [], 0

    def check(where, expr, allowed):
        nonlocal checked
        checked += 1
        try:
            names = selectors(promql_parser.parse(expand(expr)), set())
        except Exception as e:  # the parser raises ValueError (and friends) with its message
            problems.append(f"{where}: does not parse: {e}")
            return
        if not names:
            problems.append(f"{where}: names no metric")
        for name in sorted(names - allowed):
            problems.append(f"{where}: {name} is not a metric the agent exports")

    for where, expr in dashboard_expressions(json.load(open(dashboard_path))):
        check(f"{dashboard_path}: {where}", expr, exported)
    for group in rules["groups"]:
        for rule in group["rules"]:
            name = rule.get("record") or rule.get("alert")
            check(f"{rules_path}: {name}", rule["expr"], exported | recorded)
    for p in problems:
        print(p)
    print(f"check_promql: {checked} expressions, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
