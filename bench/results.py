#!/usr/bin/env python3
"""Collects the benchmark figures of one `./run bench` and reports them.

  results.py record BENCH FIGURE VALUE UNIT [--target T] [--note N]
      appends one figure to $CW_BENCH_FIGURES (JSON Lines); the command that produced it is
      $CW_BENCH_COMMAND (each bench script sets it to its own command line)
  results.py micro BENCH GBENCH_JSON
      records every benchmark of a Google Benchmark JSON report (ns per item, items/s)
  results.py report FIGURES [--out DIR]
      writes DIR/<date>.json (default bench/results) with the machine and the figures, and prints
      the Markdown table that docs/benchmarks.md shows

Figures are reported, never judged: a target is printed beside the figure for the reader.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys


def machine():
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    os_name = ""
    if os.path.exists("/etc/os-release"):
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip().strip('"')
    return {"cores": os.cpu_count(), "memory_gib": round(mem_kb / 1024 / 1024, 1), "cpu": model,
            "os": os_name, "kernel": platform.release()}


def git_commit(root):
    try:
        rev = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def figures_path():
    path = os.environ.get("CW_BENCH_FIGURES")
    if not path:
        sys.exit("results.py: CW_BENCH_FIGURES is not set (run the benchmarks through ./run bench)")
    return path


def append(record):
    record.setdefault("command", os.environ.get("CW_BENCH_COMMAND", ""))
    record["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with open(figures_path(), "a") as f:
        f.write(json.dumps(record) + "\n")


def cmd_record(a):
    value = float(a.value)
    append({"bench": a.bench, "figure": a.figure, "value": int(value) if value.is_integer() else value,
            "unit": a.unit, "target": a.target or "", "note": a.note or ""})


def cmd_micro(a):
    report = json.load(open(a.json))
    for b in report["benchmarks"]:
        if b.get("run_type") == "aggregate" or b.get("error_occurred"):
            continue
        items = b.get("items_per_second")
        scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
        ns = b["real_time"] * scale
        note = b.get("label", "")
        if items:
            # Per item (a batch benchmark reports per event, not per batch).
            per_item_ns = 1e9 / items
            append({"bench": a.bench, "figure": b["name"], "value": round(per_item_ns / 1000, 2), "unit": "µs/item",
                    "target": "", "note": (note + "; " if note else "") + f"{items:,.0f} items/s"})
        else:
            bps = b.get("bytes_per_second")
            extra = f"{bps / 1e6:,.0f} MB/s" if bps else ""
            append({"bench": a.bench, "figure": b["name"], "value": round(ns / 1000, 2), "unit": "µs",
                    "target": "", "note": "; ".join(x for x in (note, extra) if x)})


def fmt(v):
    if isinstance(v, int):
        return f"{v:,}"
    return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"


def cmd_report(a):
    figures = []
    if os.path.exists(a.figures):
        figures = [json.loads(l) for l in open(a.figures) if l.strip()]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    now = datetime.datetime.now(datetime.timezone.utc)
    result = {"date": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "commit": git_commit(root), "machine": machine(),
              "figures": figures}
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, now.strftime("%Y-%m-%d") + ".json")
    if os.path.exists(path):  # a second run the same day keeps the first's figures it did not redo
        old = json.load(open(path))
        redone = {(f["bench"], f["figure"]) for f in figures}
        result["figures"] = [f for f in old.get("figures", []) if (f["bench"], f["figure"]) not in redone] + figures
    with open(path, "w") as f:
        json.dump(result, f, indent=2, ensure_ascii=False)
        f.write("\n")
    m = result["machine"]
    print(f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB, {m['os']}, kernel {m['kernel']}; "
          f"commit {result['commit']}; {result['date']}\n")
    print("| bench | figure | value | target | notes | command |")
    print("|---|---|---|---|---|---|")
    for f in result["figures"]:
        cmd = f"`{f['command']}`" if f.get("command") else ""
        print(f"| {f['bench']} | {f['figure']} | {fmt(f['value'])} {f['unit']} | {f.get('target', '')} | "
              f"{f.get('note', '')} | {cmd} |")
    print(f"\nwritten: {os.path.relpath(path, root)}", file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("bench"); r.add_argument("figure"); r.add_argument("value"); r.add_argument("unit")
    r.add_argument("--target"); r.add_argument("--note")
    r.set_defaults(fn=cmd_record)
    m = sub.add_parser("micro")
    m.add_argument("bench"); m.add_argument("json")
    m.set_defaults(fn=cmd_micro)
    rep = sub.add_parser("report")
    rep.add_argument("figures")
    rep.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    rep.set_defaults(fn=cmd_report)
    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
