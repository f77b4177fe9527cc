#!/usr/bin/env python3
"""Writes a change-detection benchmark workspace: N steps, each reading its own input file (TOTAL_MB over all)
and writing a small output, as a Sluice pipeline with declared inputs/outputs and as a Makefile with real targets.

usage: generate_cached.py DIR N TOTAL_MB
"""
import os
import sys

directory, count, total_mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
size = total_mb * 1024 * 1024 // count
for folder in ("pipelines", "data", "out"):
    os.makedirs(os.path.join(directory, folder), exist_ok=True)
block = os.urandom(size)
for i in range(count):
    with open(os.path.join(directory, "data", f"i{i}.bin"), "wb") as data:
        data.write(i.to_bytes(8, "little") + block[8:])
with open(os.path.join(directory, "pipelines", "cached.yaml"), "w") as pipeline:
    pipeline.write("name: cached\nsteps:\n")
    for i in range(count):
        pipeline.write(f"  - name: s{i}\n    command: head -c 64 data/i{i}.bin > out/o{i}.bin\n"
                       f"    inputs: [data/i{i}.bin]\n    outputs: [out/o{i}.bin]\n")
with open(os.path.join(directory, "Makefile"), "w") as makefile:
    targets = [f"out/o{i}.bin" for i in range(count)]
    makefile.write("all: " + " ".join(targets) + "\n")
    makefile.write("out/o%.bin: data/i%.bin\n\t@head -c 64 $< > $@\n")
