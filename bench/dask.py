#!/usr/bin/env python3
"""Benchmark ikmeta.dask on a LocalCluster of 2 worker processes (issue 14).

    python3 bench/dask.py [--images 2000] [--width 1024] [--sizes 1000000,3000000,10000000]
                          [--corpus ../shared/corpus] [--skip-hashing] [--skip-grouping]

Hashing: a folder of ``--images`` JPEGs (the corpus's photos made ``--width`` pixels wide,
round robin), `ikmeta phash -j 2 FOLDER` against `ikmeta.dask.hash_table` computed on the
cluster (started beforehand: its start-up is printed apart), in the same run: images/s, and
the cluster's rate over the CLI's (Dask's overhead).

Grouping: tables of n hashes made on the workers (random hashes, 10% of them planted near
copies of others, 0 to 6 bits off), `ikmeta.dask.find_groups(table, 6)` at each size: time,
peak memory of each worker process and of the client, and how the time grows from the
smallest size; against one machine's grouping of the same hashes as a plain hash list
(`ikmeta.dupes.columns.group_columns`, in a fresh process) up to 3M.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # not bench/, whose inspect.py would shadow the standard library's

PARTITION = 250_000  # hashes a partition of the grouping tables


def planted_partition(k: int, size: int):
    """Partition ``k`` of a table: ``size`` rows, the last 10% near copies of the others."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1000 + k)
    planted = size // 10
    hashes = rng.integers(0, 2**64, size=size, dtype=np.uint64)
    copies = hashes[rng.integers(0, size - planted, size=planted)]
    flips = rng.integers(0, 7, size=planted)
    for bit in range(64):
        copies[rng.random(planted) < flips / 64] ^= np.uint64(1) << np.uint64(bit)
    hashes[size - planted :] = copies
    first = k * PARTITION
    return pd.DataFrame(
        {
            "source": [f"photos/{(first + j) % 1000:03d}/img{first + j:09d}.jpg" for j in range(size)],
            "pHash": [f"{h:016x}" for h in hashes.tolist()],
        }
    )


SINGLE = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
from ikmeta.dupes.columns import HashColumns, group_columns
import importlib.util
spec = importlib.util.spec_from_file_location("benchdask", sys.argv[1] + "/bench/dask.py")
bench = importlib.util.module_from_spec(spec); spec.loader.exec_module(bench)
n = int(sys.argv[2])
sizes = [min(bench.PARTITION, n - k * bench.PARTITION) for k in range(-(-n // bench.PARTITION))]
parts = [bench.planted_partition(k, size) for k, size in enumerate(sizes)]
sources = [s for p in parts for s in p["source"].tolist()]
hashes = np.array([int(h, 16) for p in parts for h in p["pHash"].tolist()], dtype=np.uint64)
del parts
start = time.perf_counter()
groups = group_columns(HashColumns(sources, hashes), 6, jobs=2)
print(json.dumps({"seconds": time.perf_counter() - start, "groups": len(groups),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


class PeakMemory:
    """The largest resident memory of each of some processes, sampled every 0.2 s."""

    def __init__(self, pids: dict[str, int]) -> None:
        import psutil

        self.processes = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.peaks = dict.fromkeys(pids, 0)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self) -> None:
        while not self.stopped.wait(0.2):
            for name, process in self.processes.items():
                try:
                    self.peaks[name] = max(self.peaks[name], process.memory_info().rss)
                except Exception:  # noqa: BLE001 - a worker restarted: its peak so far stands
                    pass

    def __enter__(self) -> PeakMemory:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join()


def hashing(client, corpus: Path, count: int, width: int) -> None:
    import ikmeta.dask as on_dask
    from bench.storage import photos

    pictures = photos(corpus, width)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "photos"
        folder.mkdir()
        for k in range(count):
            (folder / f"{k:05d}.jpg").write_bytes(pictures[k % len(pictures)])
        size = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "ikmeta", "phash", "-j", "2", str(folder)],
            stdout=subprocess.DEVNULL,
            check=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        cli = time.perf_counter() - start
        start = time.perf_counter()
        rows = on_dask.hash_table([folder], partition_size=100).compute()
        cluster = time.perf_counter() - start
        assert rows["error"].isna().all() and len(rows) == count
    print(f"hashing {count:,} JPEGs ({width} px wide, {size:.0f} MB), cpus {len(os.sched_getaffinity(0))}:")
    print(f"  ikmeta phash -j 2           {cli:6.1f} s  {count / cli:6.1f} images/s")
    print(
        f"  hash_table on 2 workers     {cluster:6.1f} s  {count / cluster:6.1f} images/s "
        f"({cli / cluster:.2f}x the CLI's rate)",
        flush=True,
    )


def grouping(client, sizes: list[int]) -> None:
    import dask.dataframe as dd
    import psutil

    import ikmeta.dask as on_dask

    pids = client.run(os.getpid)
    print(f"grouping at --max 6 on {len(pids)} workers (1 thread each), cpus {len(os.sched_getaffinity(0))}:")
    first = None
    for n in sizes:
        counts = [min(PARTITION, n - k * PARTITION) for k in range(-(-n // PARTITION))]
        table = dd.from_map(planted_partition, range(len(counts)), counts, meta=planted_partition(0, 0))
        table = table.persist()  # made on the workers before the clock starts
        from distributed import wait

        wait(table)
        client_before = psutil.Process().memory_info().rss
        with PeakMemory(
            {f"worker {k}": pid for k, pid in enumerate(pids.values())} | {"client": os.getpid()}
        ) as peak:
            start = time.perf_counter()
            groups = on_dask.find_groups(table, 6)
            seconds = time.perf_counter() - start
        del table
        client.run(lambda: __import__("gc").collect())
        first = first or (n, seconds)
        growth = (
            f"{seconds / first[1]:.2f}x the time for {n / first[0]:.0f}x the hashes" if n != first[0] else ""
        )
        workers = ", ".join(f"{v / 2**20:,.0f}" for k, v in peak.peaks.items() if k != "client")
        line = (
            f"  {n:>11,} hashes: {seconds:7.1f} s, {len(groups):,} groups; peak MB per worker {workers}, "
            f"client {peak.peaks['client'] / 2**20:,.0f} (from {client_before / 2**20:,.0f}) {growth}"
        )
        if n <= 3_000_000:
            single = json.loads(
                subprocess.run(
                    [sys.executable, "-c", SINGLE, str(ROOT), str(n)],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
            line += (
                f"; one machine (group_columns, -j 2) {single['seconds']:.1f} s, "
                f"peak {single['peak_mb']:,.0f} MB, same number of groups: {single['groups'] == len(groups)}"
            )
        print(line, flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--sizes", default="1000000,3000000,10000000")
    ap.add_argument(
        "--corpus", default=os.environ.get("IKMETA_CORPUS", str(ROOT.parent / "shared" / "corpus"))
    )
    ap.add_argument("--skip-hashing", action="store_true")
    ap.add_argument("--skip-grouping", action="store_true")
    args = ap.parse_args()
    from distributed import Client, LocalCluster

    start = time.perf_counter()
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
    )
    client = Client(cluster)
    print(f"LocalCluster of 2 worker processes started in {time.perf_counter() - start:.1f} s")
    try:
        if not args.skip_hashing:
            hashing(client, Path(args.corpus), args.images, args.width)
        if not args.skip_grouping:
            grouping(client, [int(s) for s in args.sizes.split(",")])
    finally:
        client.close()
        cluster.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
