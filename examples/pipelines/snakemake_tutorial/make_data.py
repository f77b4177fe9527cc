"""The tutorial's data, generated: `genome` writes a 20,000-base reference; `reads SAMPLE` writes the sample's reads
(8x coverage), carrying variants of the sample's own at a dozen positions, and a few sequencing errors."""
import hashlib
import random
import sys

from common import GENOME, READ_LENGTH, path, read_genome, write

LENGTH = 20_000

if sys.argv[1] == "genome":
    bases = random.Random(2015)
    sequence = "".join(bases.choice("ACGT") for _ in range(LENGTH))
    write(path("genome.fa"), ">ref\n" + "\n".join(sequence[i:i + 60] for i in range(0, LENGTH, 60)) + "\n")
    print(f"genome: {LENGTH} bases in {GENOME}")
    sys.exit()

sample = sys.argv[2]
genome = list(read_genome())
draw = random.Random(int(hashlib.sha256(sample.encode()).hexdigest(), 16))
variants = sorted(draw.sample(range(100, LENGTH - 100), 12))
for position in variants:
    genome[position] = draw.choice([base for base in "ACGT" if base != genome[position]])
records = []
for number in range(LENGTH * 8 // READ_LENGTH):
    start = draw.randrange(0, LENGTH - READ_LENGTH)
    read = genome[start:start + READ_LENGTH]
    for offset in range(READ_LENGTH):
        if draw.random() < 0.001:
            read[offset] = draw.choice("ACGT")
    records.append(f"@{sample}.{number}\n{''.join(read)}\n+\n{'I' * READ_LENGTH}\n")
write(path("samples", f"{sample}.fastq"), "".join(records))
print(f"sample {sample}: {len(records)} reads, variants at {', '.join(str(p + 1) for p in variants)}")
