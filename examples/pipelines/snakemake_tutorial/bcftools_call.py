"""Calls variants in all samples together: a position is a variant where at least three of a sample's reads agree
on a base other than the reference's (80% of them or more). One VCF line per position, a genotype per sample."""
import os
from collections import Counter, defaultdict

from common import path, read_alignments, read_genome, samples, write

genome = read_genome()
names = samples()
piles = {sample: defaultdict(Counter) for sample in names}
for sample in names:
    for _, start, sequence, _ in read_alignments("sorted_reads", sample):
        for offset, base in enumerate(sequence):
            piles[sample][start + offset][base] += 1
calls = defaultdict(dict)
for sample, pile in piles.items():
    for position, bases in pile.items():
        base, count = bases.most_common(1)[0]
        depth = sum(bases.values())
        if base != genome[position] and count >= 3 and count >= 0.8 * depth:
            calls[position][sample] = (base, depth)
lines = ["##fileformat=VCFv4.2", "##source=sluice-snakemake-tutorial",
         "#" + "\t".join(["CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"] + names)]
for position in sorted(calls):
    found = calls[position]
    alternative = sorted({base for base, _ in found.values()})
    depth = sum(depth for _, depth in found.values())
    genotypes = ["1/1" if sample in found else "0/0" for sample in names]
    lines.append("\t".join(["ref", str(position + 1), ".", genome[position], ",".join(alternative), str(min(99, 10 * depth)),
                            "PASS", f"DP={depth}", "GT"] + genotypes))
write(path("calls", "all.vcf"), "\n".join(lines) + "\n")
print(f"{len(calls)} variants called in {len(names)} samples: {', '.join(names)}")
# A value for the steps downstream: `{{ steps.bcftools_call.outputs.calls }}`.
with open(os.environ["SLUICE_OUTPUT"], "a") as values:
    values.write(f"calls={len(calls)}\n")
