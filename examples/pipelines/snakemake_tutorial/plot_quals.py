"""A histogram of the calls' qualities, as an SVG image (the tutorial draws it with matplotlib)."""
from collections import Counter

from common import path, write

with open(path("calls", "all.vcf")) as handle:
    qualities = [int(line.split("\t")[5]) for line in handle if not line.startswith("#")]
bins = Counter(min(quality // 10, 9) for quality in qualities)
tallest = max(bins.values(), default=1)
bars = "".join(
    f'<rect x="{40 + 36 * b}" y="{210 - 180 * bins[b] / tallest:.1f}" width="30" height="{180 * bins[b] / tallest:.1f}" fill="#4878a8">'
    f"<title>QUAL {10 * b}-{10 * b + 9}: {bins[b]}</title></rect>" for b in range(10))
labels = "".join(f'<text x="{55 + 36 * b}" y="228" font-size="10" text-anchor="middle">{10 * b}</text>' for b in range(10))
write(path("plots", "quals.svg"),
      '<svg xmlns="http://www.w3.org/2000/svg" width="420" height="250" font-family="sans-serif">'
      f'<text x="210" y="20" text-anchor="middle" font-size="13">Quality of {len(qualities)} calls</text>{bars}{labels}</svg>\n')
print(f"histogram of {len(qualities)} qualities")
