#!/usr/bin/env python3
"""Measured peak memory of training against the estimate that run.py refuses by.

Each configuration runs in a fresh process: after the imports it notes the resident
memory, then builds the trainer, takes two steps and one evaluation, draws the run's
pictures (report.write), and reports the peak resident memory above that baseline next to
the largest of the estimates the run is refused by: training, evaluation, and the
pictures (``memory.peak_bytes``, ``fixed_bytes`` + ``pictures_bytes``; docs/fast.md,
"Memory"). The estimate should lie within 25% of the measurement.

    python benchmarks/memory.py --json benchmarks/results/memory.json
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

# (label, Config keywords, TrainOptions keywords)
CASES = [
    ("nearest sine, full batch, 512^2", dict(act="sine"), dict(batch=0)),
    ("nearest leaky, full batch, 512^2", dict(act="leaky_relu"), dict(batch=0)),
    ("linear sine, full batch, 512^2", dict(act="sine", blend="linear"), dict(batch=0)),
    ("nearest sine, batch 65536, 512^2", dict(act="sine"), dict(batch=65536)),
    ("nearest sine, hidden 128, full batch, 256^2", dict(act="sine", hidden=128), dict(batch=0, size=[256, 256])),
    ("nearest sine, batch 16384, chunk 16384, 1024^2", dict(act="sine"), dict(batch=16384, chunk=16384, size=[1024, 1024])),
    ("nearest sine, float64, full batch, 256^2", dict(act="sine"), dict(batch=0, size=[256, 256], dtype="float64")),
    ("nearest sine, 3 layers of 8, batch 16384, 3000^2", dict(act="sine", layers=3, hidden=8),
     dict(batch=16384, size=[3000, 3000])),
    ("nearest sine, 3 layers of 8, batch 16384, 5000^2", dict(act="sine", layers=3, hidden=8),
     dict(batch=16384, size=[5000, 5000])),
]


def run_one(index):
    import numpy as np
    os.environ["LOE_REF_CPUS"] = "1"                  # one process: its peak is the run's
    from rss import rss_peak, status_bytes

    from loe_ref.fast import memory
    from loe_ref.network import Config
    from loe_ref.runs import report
    from loe_ref.training.data import prepare_signal
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
    signal = prepare_signal(opts.image, opts.size)
    image = signal.values
    trainer = Trainer(cfg, opts, signal)
    if opts.batch:                  # a long run holds two permutations (a batch across epochs): so here
        trainer.batch_indices(image.shape[0] * image.shape[1] // opts.batch)
    for it in range(2):
        trainer.step(it)
    trainer.psnr()
    trained, now = rss_peak() - base, status_bytes("VmRSS")
    with tempfile.TemporaryDirectory() as folder:                 # the pictures, then the whole run's peak
        report.write(folder, trainer)
    measured = rss_peak() - base
    pixels = image.shape[0] * image.shape[1]
    dtype = np.dtype(opts.dtype)
    train_est, eval_est = memory.peak_bytes(cfg, pixels, opts.batch, opts.chunk, dtype)
    pictures_est = memory.fixed_bytes(cfg, pixels, opts.batch, dtype) + \
        memory.pictures_bytes(cfg, image.shape[:2], opts.chunk)
    estimate = max(train_est, eval_est, pictures_est)
    return {"case": label, "measured_gib": round(measured / 2 ** 30, 3), "estimate_gib": round(estimate / 2 ** 30, 3),
            "estimate_over_measured": round(estimate / measured, 3),
            "training_measured_gib": round(trained / 2 ** 30, 3),
            "training_estimate_gib": round(max(train_est, eval_est) / 2 ** 30, 3),
            "pictures_above_training_gib": round((measured - (now - base)) / 2 ** 30, 3)}


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
        print(f"{rec['case']:52s} measured {rec['measured_gib']:6.3f} GiB  estimate {rec['estimate_gib']:6.3f} GiB  "
              f"ratio {rec['estimate_over_measured']:.2f}  (training {rec['training_measured_gib']:.3f} / "
              f"{rec['training_estimate_gib']:.3f} GiB)", flush=True)
    if args.json:
        from loe_ref.runs.files import write_json
        write_json(args.json, records)


if __name__ == "__main__":
    main()
