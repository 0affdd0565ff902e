#!/usr/bin/env python3
"""The grids' stretch per axis for sounds and videos: which ``axis_scale`` to default to.

The paper's network (9 position-dependent layers of 64, fine_to_coarse, tile 2, sine,
nearest experts) under the short recipe's protocol (batches of 4,096, linear decay to 0,
beta2 0.8, lr 8e-3) for a fixed ``ITERS`` steps, seed 0, on the two made signals:

- sound ``chirp`` (24,000 samples): one stretch s for its time axis, SOUND_SCALES;
- video ``astronaut_pan`` (32 frames of 128 x 128): the stretch of the time axis and of
  the two spatial axes, VIDEO_SCALES;
- which rule the sound's best setting follows, one finest cell (of 512) per sample as
  fitted or as recorded: ``chirp`` resampled to RULE_SIZES samples N, s = N / 1024, N / 512
  and N / 256, among them the recording's 24,000 / 512.

Finished runs are reused (studies.train_row); ``--part k/n`` takes every n-th run from the
k-th; --report only tabulates. Records: results/signals/.

    python scripts/signals_study.py
    python scripts/signals_study.py --report
"""
import os
import sys

from loe_ref.network import Config
from loe_ref.runs import studies
from loe_ref.training import recipes
from loe_ref.training.options import TrainOptions

OUT = "results/signals"
ITERS = 1500
SOUND_SCALES = (1.0, 4.0, 16.0, 32.0, 24000 / 512, 64.0, 128.0, 256.0, 1024.0)
RULE_SIZES = (12000, 48000)
#: (time, space) stretches of the video.
VIDEO_SCALES = ((1 / 64, 1.0), (1 / 16, 1.0), (1 / 4, 1.0), (1.0, 1.0), (4.0, 1.0), (16.0, 1.0),
                (1.0, 0.5), (1.0, 0.25), (4.0, 0.5))


def runs():
    """(signal, kind, in_dims, channels, axis_scale, folder, size) of every run."""
    out = [("chirp", "sound", 1, 1, [s], os.path.join(OUT, "sound", f"s{s:g}"), None) for s in SOUND_SCALES]
    out += [("astronaut_pan", "video", 3, 3, [t, x, x], os.path.join(OUT, "video", f"t{t:g}_xy{x:g}"), None)
            for t, x in VIDEO_SCALES]
    out += [("chirp", "sound", 1, 1, [n / 512 * f], os.path.join(OUT, "sound_rule", f"N{n}_s{n / 512 * f:g}"), [n])
            for n in RULE_SIZES for f in (0.5, 1.0, 2.0)]
    return out


def options(signal, samples, size=None):
    o = recipes.recipe_options("short", samples, iters=ITERS)
    o.update(eval_every=ITERS // 10, checkpoint_every=ITERS // 2)
    return TrainOptions(image=signal, size=size or [], **o)


SAMPLES = {"chirp": 24000, "astronaut_pan": 32 * 128 * 128}


def report():
    rows = []
    for signal, kind, d, channels, scale, out, size in runs():
        summary = studies.finished(out, Config(in_dims=d, out_channels=channels, axis_scale=scale),
                                   options(signal, size[0] if size else SAMPLES[signal], size))
        rows.append({"signal": signal if size is None else f"{signal} at {size[0]}", "kind": kind,
                     "axis_scale": scale, "iterations": ITERS,
                     "peak_psnr": summary and summary["peak_psnr"], "final_psnr": summary and summary["final_psnr"]})
    studies.write_table(OUT, "signals", rows,
                        ["signal", "kind", "axis_scale", "iterations", "peak PSNR (dB)", "final PSNR (dB)"],
                        lambda r: [r["signal"], r["kind"], " ".join(f"{v:g}" for v in r["axis_scale"]), r["iterations"]]
                        + ["-" if v is None else f"{v:.2f}" for v in (r["peak_psnr"], r["final_psnr"])])


def main():
    args = studies.parser(__doc__).parse_args()
    if not args.report:
        for signal, kind, d, channels, scale, out, size in studies.share(runs(), args.part):
            cfg = Config(in_dims=d, out_channels=channels, axis_scale=scale)
            samples = size[0] if size else SAMPLES[signal]
            studies.train_row(out, cfg, options(signal, samples, size),
                              f"{kind} {signal} {size or ''} axis_scale {scale}")
    report()


if __name__ == "__main__":
    sys.exit(studies.script_main(main))
