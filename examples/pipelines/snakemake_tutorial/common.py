"""Paths shared by the tutorial's steps: everything lives under data/snakemake_tutorial/ of the workspace."""
import json
import os

DATA = os.path.join(os.environ.get("SLUICE_WORKSPACE", "."), "data", "snakemake_tutorial")
GENOME = os.path.join(DATA, "genome.fa")
READ_LENGTH = 50
SEED_LENGTH = 20


def path(*parts):
    """A file under the data folder, its folder created."""
    full = os.path.join(DATA, *parts)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    return full


def samples():
    """The run's samples: the `samples` list parameter, which Sluice passes as a JSON list."""
    return json.loads(os.environ.get("SAMPLES", "[]"))


def read_genome():
    with open(GENOME) as handle:
        return "".join(line.strip() for line in handle if not line.startswith(">"))


def write(target, text):
    """Whole or not at all: a step that fails halfway leaves no half-written output."""
    with open(target + ".tmp", "w") as handle:
        handle.write(text)
    os.replace(target + ".tmp", target)


def read_alignments(kind, sample):
    """The alignments of one sample, as `bwa_map` writes them: read id, position, sequence, mapping quality."""
    with open(path(kind, f"{sample}.bam")) as handle:
        return [(name, int(position), sequence, int(quality)) for name, position, sequence, quality in
                (line.split("\t") for line in handle.read().splitlines())]
