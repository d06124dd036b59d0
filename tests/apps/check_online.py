#!/usr/bin/env python3
"""Checks an online run's online_summary.json (and metrics.jsonl) against expressions.

    check_online.py RUN_DIR EXPR...

Each EXPR is a Python expression over `s` (the summary dict), `meta` (the model file's
metadata, its JSON values parsed), `m` (the list of
metrics.jsonl records), `done` (the set of done samples), `d` (every (sample, example)
pair of the trainers' draw ledgers draws_<rank>.jsonl) and `once(n)` (every done sample's
n examples were drawn exactly once, and nothing else was); all must be true.
"""
import glob
import json
import struct
import sys

run = sys.argv[1]
s = json.load(open(f"{run}/online_summary.json"))
m = [json.loads(line) for line in open(f"{run}/metrics.jsonl") if line.strip()]
done = set(s["done_samples"])


def model_metadata(path):
    try:
        raw = open(path, "rb").read()
    except OSError:
        return {}
    (n,) = struct.unpack("<Q", raw[:8])
    out = {}
    for k, v in json.loads(raw[8:8 + n]).get("__metadata__", {}).items():
        try:
            out[k] = json.loads(v)
        except ValueError:
            out[k] = v
    return out


meta = model_metadata(f"{run}/model.safetensors")
d = [tuple(p) for f in sorted(glob.glob(f"{run}/draws_*.jsonl")) for line in open(f) if line.strip()
     for p in json.loads(line)["draws"]]


def once(n):
    want = sorted((x, i) for x in done for i in range(n))
    got = sorted(d)
    if got != want:
        extra = sorted(set(got) - set(want))[:5]
        missing = sorted(set(want) - set(got))[:5]
        twice = sorted({p for p in got if got.count(p) > 1})[:5]
        print(f"once({n}): {len(got)} draws for {len(want)} examples; extra {extra}, missing {missing}, twice {twice}")
    return got == want

print(json.dumps({k: v for k, v in s.items() if k != "done_samples"}, indent=None)[:2000])
failed = [e for e in sys.argv[2:] if not eval(e)]
for e in failed:
    print(f"FAILED: {e}")
sys.exit(1 if failed else 0)
