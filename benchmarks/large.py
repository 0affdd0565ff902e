#!/usr/bin/env python3
"""Peak memory of training on random pixel batches and evaluating / rendering in chunks.

For each image side S the camera picture is upscaled to S x S; a process then trains a
few steps on --batch random pixels, evaluates the PSNR over the whole image in chunks of
--chunk pixels and renders the S x S reconstruction to PNG. It reports the peak resident
memory and how much of it the image's own arrays (float64 picture, float32 target and
reconstruction) account for: the rest is set by the batch and chunk sizes.

    python benchmarks/large.py --sizes 1024,4096
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from rss import rss_peak


def run_one(size, batch, chunk, steps):
    from loe_ref.network import Config
    from loe_ref.runs import session
    from loe_ref.runs.render import render
    from loe_ref.training.loop import Trainer
    from loe_ref.training.options import TrainOptions

    cfg = Config()
    opts = TrainOptions(image="camera", size=[size, size], iters=steps, batch=batch, chunk=chunk)
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        trainer = Trainer(cfg, opts)
        for it in range(steps):
            trainer.step(it)
        t_steps = time.perf_counter() - t0
        t1 = time.perf_counter()
        value = trainer.psnr()
        t_eval = time.perf_counter() - t1
        session.save_checkpoint(trainer, os.path.join(out, "checkpoint.npz"))
        t2 = time.perf_counter()
        render(os.path.join(out, "checkpoint.npz"), (size, size), os.path.join(out, "render.png"), chunk=chunk)
        t_render = time.perf_counter() - t2
    image_bytes = size * size * (8 + 4 + 4)       # picture float64, target float32, rendered float32
    return {"size": size, "batch": batch, "chunk": chunk, "steps": steps, "psnr": round(value, 2),
            "seconds_setup_and_steps": round(t_steps, 1), "seconds_eval": round(t_eval, 1),
            "seconds_render": round(t_render, 1),
            "peak_rss_gib": round(rss_peak() / 2 ** 30, 3),
            "image_arrays_gib": round(image_bytes / 2 ** 30, 3)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1024,4096")
    ap.add_argument("--batch", type=int, default=65536)
    ap.add_argument("--chunk", type=int, default=65536)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--json", help="also write the records to this file")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.batch, args.chunk, args.steps)))
        return
    records = []
    for size in [int(s) for s in args.sizes.split(",")]:
        out = subprocess.run([sys.executable, __file__, "--one", str(size), "--batch", str(args.batch),
                              "--chunk", str(args.chunk), "--steps", str(args.steps)],
                             check=True, capture_output=True, text=True).stdout
        records.append(json.loads(out.strip().splitlines()[-1]))
        print(json.dumps(records[-1]), flush=True)
    if args.json:
        from loe_ref.runs.files import write_json
        write_json(args.json, records)


if __name__ == "__main__":
    main()
