#!/usr/bin/env python3
"""Training-step time by image size with one other process busy beside: the library's
choice of threads against one thread.

The library holds BLAS to one thread and shares row blocks of 4096 points among
min(cores, blocks // 4) threads (docs/method.md, section 7). For each side S of the camera
image (resized to S x S) a fresh process trains full-batch steps for about --seconds and
reports the median step time, once with the library's choice and once capped to one
thread (LOE_REF_THREADS=1), alternating the two --rounds times, while a busy loop keeps
one core occupied. No image should train slower than on one thread.

    python benchmarks/threads.py --json benchmarks/results/threads.json
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_one(size, seconds):
    from loe_ref.backend import usable_cpus
    from loe_ref.network import Config
    from loe_ref.train import Trainer, TrainOptions
    import tempfile
    with tempfile.TemporaryDirectory() as out:
        tr = Trainer(Config(), TrainOptions(image="camera", size=[size, size], iters=10 ** 6), out)
        tr.step(0)
        tr.step(1)
        times, start, it = [], time.perf_counter(), 2
        while len(times) < 3 or time.perf_counter() - start < seconds:
            t = time.perf_counter()
            tr.step(it)
            times.append(time.perf_counter() - t)
            it += 1
    from loe_ref.backend import BLOCKS_PER_THREAD
    from loe_ref.routing import BLOCK_ROWS
    threads = max(1, min(usable_cpus(), -(-size * size // BLOCK_ROWS) // BLOCKS_PER_THREAD))
    return {"size": size, "threads": threads, "steps": len(times), "median_s": statistics.median(times)}


def cpu_name():
    try:
        with open("/proc/cpuinfo") as fh:
            return next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="64,128,256,512")
    ap.add_argument("--seconds", type=float, default=4.0, help="timed seconds per measurement (default 4)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--one", nargs=2, type=float, help=argparse.SUPPRESS)
    ap.add_argument("--json", help="also write the records to this file")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(int(args.one[0]), args.one[1])))
        return
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    records = []
    try:
        for size in [int(s) for s in args.sizes.split(",")]:
            runs = {"chosen": [], "one thread": []}
            for _ in range(args.rounds):
                for label, env in (("chosen", {}), ("one thread", {"LOE_REF_THREADS": "1"})):
                    out = subprocess.run([sys.executable, __file__, "--one", str(size), str(args.seconds)],
                                         env={**os.environ, **env}, capture_output=True, text=True, check=True)
                    runs[label].append(json.loads(out.stdout.strip().splitlines()[-1]))
            chosen = min(r["median_s"] for r in runs["chosen"])
            single = min(r["median_s"] for r in runs["one thread"])
            rec = {"size": size, "threads_chosen": runs["chosen"][0]["threads"],
                   "step_s_chosen": round(chosen, 4), "step_s_one_thread": round(single, 4),
                   "one_thread_over_chosen": round(single / chosen, 2), "cpu": cpu_name(),
                   "busy_process_beside": True}
            records.append(rec)
            print(f"{size:4d} x {size:<4d} chosen ({rec['threads_chosen']} threads) {chosen:.4f} s/step   "
                  f"one thread {single:.4f} s/step   ratio {rec['one_thread_over_chosen']:.2f}", flush=True)
    finally:
        busy.kill()
    if args.json:
        from loe_ref.outputs import write_json
        write_json(args.json, records)


if __name__ == "__main__":
    main()
