"""Maps one sample's reads to the genome by their first 20 bases (a seed lookup, as aligners start), keeping the
reads that then match with at most three mismatches; writes one alignment a line."""
import sys

from common import READ_LENGTH, SEED_LENGTH, path, read_genome, write

sample = sys.argv[1]
genome = read_genome()
seeds = {}
for start in range(len(genome) - READ_LENGTH + 1):
    seeds.setdefault(genome[start:start + SEED_LENGTH], start)
lines, unmapped = [], 0
with open(path("samples", f"{sample}.fastq")) as handle:
    records = handle.read().splitlines()
for index in range(0, len(records), 4):
    name, sequence = records[index][1:], records[index + 1]
    start = seeds.get(sequence[:SEED_LENGTH])
    mismatches = None if start is None else sum(a != b for a, b in zip(sequence, genome[start:start + READ_LENGTH]))
    if mismatches is None or mismatches > 3:
        unmapped += 1
        continue
    lines.append(f"{name}\t{start}\t{sequence}\t{60 - 10 * mismatches}\n")
write(path("mapped_reads", f"{sample}.bam"), "".join(lines))
print(f"{sample}: {len(lines)} reads mapped, {unmapped} not")
