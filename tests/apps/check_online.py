#!/usr/bin/env python3
"""Checks an online run's online_summary.json (and metrics.jsonl) against expressions.

    check_online.py RUN_DIR EXPR...

Each EXPR is a Python expression over `s` (the summary dict), `m` (the list of
metrics.jsonl records) and `done` (the set of done samples); all must be true.
"""
import json
import sys

run = sys.argv[1]
s = json.load(open(f"{run}/online_summary.json"))
m = [json.loads(line) for line in open(f"{run}/metrics.jsonl") if line.strip()]
done = set(s["done_samples"])
print(json.dumps({k: v for k, v in s.items() if k != "done_samples"}, indent=None)[:2000])
failed = [e for e in sys.argv[2:] if not eval(e)]
for e in failed:
    print(f"FAILED: {e}")
sys.exit(1 if failed else 0)
