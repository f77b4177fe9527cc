"""Indexes one sorted sample: for every 1,000 bases of the genome, the first alignment that starts there."""
import sys

from common import path, read_alignments, write

sample = sys.argv[1]
index = {}
for line, (_, position, _, _) in enumerate(read_alignments("sorted_reads", sample)):
    index.setdefault(position // 1000, line)
write(path("sorted_reads", f"{sample}.bam.bai"), "".join(f"{window * 1000}\t{line}\n" for window, line in sorted(index.items())))
print(f"{sample}: {len(index)} windows indexed")
