#!/usr/bin/env python3
"""Writes a fan-out benchmark workspace: one step with `foreach` over N items, as a Sluice pipeline and as a Makefile
of N targets.

usage: fanout.py DIR N
  pipelines/fanout.yaml  `/bin/true ITEM` per item (no outputs: every instance runs)
  pipelines/cached.yaml  `touch out/ITEM` per item, with that file as its declared output (a rerun finds all cached)
"""
import os
import sys

directory, count = sys.argv[1], int(sys.argv[2])
os.makedirs(os.path.join(directory, "pipelines"), exist_ok=True)
os.makedirs(os.path.join(directory, "out"), exist_ok=True)
items = ", ".join(f"i{i}" for i in range(count))
with open(os.path.join(directory, "pipelines", "fanout.yaml"), "w") as pipeline:
    pipeline.write(f"name: fanout\nsteps:\n  - name: map\n    foreach: [{items}]\n    command: /bin/true {{{{ item }}}}\n")
with open(os.path.join(directory, "pipelines", "cached.yaml"), "w") as pipeline:
    pipeline.write(
        f"name: cached\nsteps:\n  - name: map\n    foreach: [{items}]\n    command: touch out/{{{{ item }}}}\n"
        "    outputs: [\"out/{{ item }}\"]\n")
with open(os.path.join(directory, "Makefile"), "w") as makefile:
    names = [f"i{i}" for i in range(count)]
    makefile.write(".PHONY: all " + " ".join(names) + "\n")
    makefile.write("all: " + " ".join(names) + "\n")
    for name in names:
        makefile.write(f"{name}:\n\t@/bin/true {name}\n")
