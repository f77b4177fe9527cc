#!/usr/bin/env python3
"""Writes a benchmark workspace: the same trivial steps as a Sluice pipeline and as a Makefile.

usage: generate.py DIR chain|fan N
  chain: step i depends on step i-1 (sequential)
  fan:   N independent steps
"""
import os
import sys

directory, shape, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(os.path.join(directory, "pipelines"), exist_ok=True)
with open(os.path.join(directory, "pipelines", f"{shape}.yaml"), "w") as pipeline:
    pipeline.write(f"name: {shape}\nsteps:\n")
    for i in range(count):
        pipeline.write(f"  - name: s{i}\n    command: true\n")
        if shape == "chain" and i > 0:
            pipeline.write(f"    depends_on: [s{i - 1}]\n")
with open(os.path.join(directory, "Makefile"), "w") as makefile:
    # Phony targets, so make runs every recipe like Sluice does: the same work, without make's file checks.
    names = [f"s{i}" for i in range(count)]
    makefile.write(".PHONY: all " + " ".join(names) + "\n")
    makefile.write("all: " + " ".join(names) + "\n")
    for i, name in enumerate(names):
        prerequisite = f" s{i - 1}" if shape == "chain" and i > 0 else ""
        makefile.write(f"{name}:{prerequisite}\n\t@true\n")
