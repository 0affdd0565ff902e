#!/usr/bin/env python3
"""Measured peak memory of training against the estimate that run.py refuses by.

Each configuration runs in a fresh process: after the imports it notes the resident
memory, then builds the trainer, takes two steps and one evaluation, and reports the peak
resident memory above that baseline next to ``memory.peak_bytes`` (docs/method.md,
section 7). The estimate should lie within 25% of the measurement.

    python benchmarks/memory.py --json benchmarks/results/memory.json
"""
import argparse
import json
import os
import subprocess
import sys

# (label, Config keywords, TrainOptions keywords)
CASES = [
    ("nearest sine, full batch, 512^2", dict(act="sine"), dict(batch=0)),
    ("nearest leaky, full batch, 512^2", dict(act="leaky_relu"), dict(batch=0)),
    ("linear sine, full batch, 512^2", dict(act="sine", blend="linear"), dict(batch=0)),
    ("nearest sine, batch 65536, 512^2", dict(act="sine"), dict(batch=65536)),
    ("nearest sine, hidden 128, full batch, 256^2", dict(act="sine", hidden=128), dict(batch=0, size=[256, 256])),
    ("nearest sine, batch 16384, chunk 16384, 1024^2", dict(act="sine"), dict(batch=16384, chunk=16384, size=[1024, 1024])),
    ("nearest sine, float64, full batch, 256^2", dict(act="sine"), dict(batch=0, size=[256, 256], dtype="float64")),
]


def run_one(index):
    import numpy as np
    os.environ["LOE_REF_CPUS"] = "1"                  # one process: its peak is the run's
    from rss import rss_peak, status_bytes

    from loe_ref.fast import memory
    from loe_ref.network import Config
    from loe_ref.training.data import prepare_image
    from loe_ref.training.loop import Trainer
    from loe_ref.training.options import TrainOptions
    label, model, train = CASES[index]
    cfg = Config(**model)
    opts = TrainOptions(image="camera", iters=2, **train)
    base = status_bytes("VmRSS") or rss_peak()
    try:                                              # restart the high-water mark from here
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass
    image = prepare_image(opts.image, opts.size)
    trainer = Trainer(cfg, opts, image)
    for it in range(2):
        trainer.step(it)
    trainer.psnr()
    measured = rss_peak() - base
    pixels = image.shape[0] * image.shape[1]
    train_est, eval_est = memory.peak_bytes(cfg, pixels, opts.batch, opts.chunk, np.dtype(opts.dtype))
    estimate = max(train_est, eval_est)
    return {"case": label, "measured_gib": round(measured / 2 ** 30, 3), "estimate_gib": round(estimate / 2 ** 30, 3),
            "estimate_over_measured": round(estimate / measured, 3)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--json", help="also write the records to this file")
    args = ap.parse_args()
    if args.one is not None:
        print(json.dumps(run_one(args.one)))
        return
    records = []
    for i in range(len(CASES)):
        out = subprocess.run([sys.executable, __file__, "--one", str(i)], capture_output=True, text=True, check=True)
        rec = json.loads(out.stdout.strip().splitlines()[-1])
        records.append(rec)
        print(f"{rec['case']:48s} measured {rec['measured_gib']:6.3f} GiB  estimate {rec['estimate_gib']:6.3f} GiB  "
              f"ratio {rec['estimate_over_measured']:.2f}", flush=True)
    if args.json:
        from loe_ref.runs.files import write_json
        write_json(args.json, records)


if __name__ == "__main__":
    main()
