"""Sorts one sample's alignments by position."""
import sys

from common import path, read_alignments, write

sample = sys.argv[1]
alignments = sorted(read_alignments("mapped_reads", sample), key=lambda alignment: (alignment[1], alignment[0]))
write(path("sorted_reads", f"{sample}.bam"), "".join(f"{n}\t{p}\t{s}\t{q}\n" for n, p, s, q in alignments))
print(f"{sample}: {len(alignments)} alignments sorted")
