# Sourced by the benchmarks: timing a command, and keeping the best of several rounds.

# Wall-clock seconds of one run of a command, its output discarded.
elapsed() { local start end; start=$(date +%s.%N); "$@" >/dev/null; end=$(date +%s.%N); echo "$end - $start" | bc -l; }

# The smaller of two numbers; an empty first one counts as none yet.
min() { if [ -z "$1" ] || [ "$(echo "$2 < $1" | bc -l)" = 1 ]; then echo "$2"; else echo "$1"; fi; }
