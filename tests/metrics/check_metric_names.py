#!/usr/bin/python3
"""Checks that every PromQL expression of the Grafana dashboard and of the Prometheus rules names
only metrics that exist: the DESIGN.md metrics contract, the families of a real scrape, and the
recording rules. Usage: check_metric_names.py DESIGN.md RULES.yml DASHBOARD.json SCRAPE_COMMAND"""
import json
import re
import subprocess
import sys

import yaml

# Keywords and aggregation operators ("sum by (x) (...)": not followed by a parenthesis).
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
                "unless", "bool", "offset", "inf", "nan", "sum", "min", "max", "avg", "group",
                "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile"}
# Series that Prometheus itself makes for every scrape target.
PROMETHEUS_SERIES = {"up"}


def contract_names(design_path):
    names = set()
    with open(design_path, encoding="utf-8") as design:
        for line in design:
            match = re.match(r"^\| `(dnsvagt_[a-z_]+)` \| (counter|gauge|histogram) \|", line)
            if match:
                names.add(match.group(1))
    if len(names) < 12:
        sys.exit(f"{design_path}: found only {len(names)} contract metrics; table changed?")
    return names


def scraped_names(scrape_command):
    text = subprocess.run(scrape_command, check=True, capture_output=True, text=True,
                          timeout=30).stdout
    names = set()
    for line in text.splitlines():
        match = re.match(r"^# TYPE (\S+) (\S+)$", line)
        if match:
            names.add(match.group(1))
            if match.group(2) == "histogram":
                names.update(match.group(1) + suffix for suffix in ("_bucket", "_sum", "_count"))
    return names


def metric_names_in(expr):
    """The metric names an expression selects (functions, keywords and labels removed)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)            # string literals
    expr = re.sub(r"\{[^}]*\}", "", expr)                       # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)                      # range and subquery windows
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", r"\1", expr)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", expr):
        word = match.group(0)
        rest = expr[match.end():].lstrip()
        if rest.startswith("(") or word.lower() in PROMQL_WORDS:
            continue  # a function call or a keyword
        if match.start() > 0 and (expr[match.start() - 1].isdigit() or expr[match.start() - 1] == "$"):
            continue  # 1e3, $instance
        names.add(word)
    return names


def dashboard_exprs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                yield value
            else:
                yield from dashboard_exprs(value)
    elif isinstance(node, list):
        for item in node:
            yield from dashboard_exprs(item)


def main():
    design_path, rules_path, dashboard_path = sys.argv[1:4]
    scrape_command = sys.argv[4:]
    contract = contract_names(design_path)
    scraped = scraped_names(scrape_command)
    missing = contract - scraped
    if missing:
        sys.exit(f"contract metrics missing from the scrape: {sorted(missing)}")

    with open(rules_path, encoding="utf-8") as rules_file:
        rules = [rule for group in yaml.safe_load(rules_file)["groups"] for rule in group["rules"]]
    recorded = {rule["record"] for rule in rules if "record" in rule}
    known = contract | scraped | recorded

    with open(dashboard_path, encoding="utf-8") as dashboard_file:
        dashboard = json.load(dashboard_file)
    exprs = [("dashboard", expr) for expr in dashboard_exprs(dashboard)]
    exprs += [("rules", rule["expr"]) for rule in rules]
    if not any(source == "dashboard" for source, _ in exprs):
        sys.exit(f"{dashboard_path}: no expressions found")
    problems = []
    for source, expr in exprs:
        allowed = known | (PROMETHEUS_SERIES if source == "rules" else set())
        for name in sorted(metric_names_in(expr) - allowed):
            problems.append(f"{source}: unknown metric {name!r} in: {' '.join(expr.split())}")
    if problems:
        sys.exit("\n".join(problems))
    print(f"ok: {len(exprs)} expressions name only known metrics ({len(known)} known)")


if __name__ == "__main__":
    main()
