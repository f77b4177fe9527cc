#!/usr/bin/env python3
"""A small HTTP load client (standard library only): THREADS keep-alive connections GET PATH for SECONDS;
prints requests per second, p50 and p99 latency in milliseconds, and the error count.

usage: load.py HOST PORT PATH SECONDS THREADS
"""
import http.client
import sys
import threading
import time

host, port, path, seconds, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
latencies, errors, lock = [], [0], threading.Lock()
deadline = time.monotonic() + seconds


def worker():
    connection = http.client.HTTPConnection(host, port, timeout=30)
    mine, failed = [], 0
    while time.monotonic() < deadline:
        start = time.perf_counter()
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                failed += 1
        except Exception:
            failed += 1
            connection = http.client.HTTPConnection(host, port, timeout=30)
        mine.append(time.perf_counter() - start)
    with lock:
        latencies.extend(mine)
        errors[0] += failed


pool = [threading.Thread(target=worker) for _ in range(threads)]
for thread in pool:
    thread.start()
for thread in pool:
    thread.join()
latencies.sort()
count = len(latencies)
print(f"{count / seconds:.0f} {latencies[count // 2] * 1000:.2f} {latencies[min(count - 1, int(count * 0.99))] * 1000:.2f} {errors[0]}")
