#!/usr/bin/env python3
"""Fit a Levels-of-Experts network to an image, a sound, a video or a volume: python run.py --help."""
import os
import signal
import sys


def _interrupted_while_starting(signum, frame):
    """Ctrl-C while the libraries load: one line and 130, not a traceback (nothing is written yet)."""
    sys.stderr.write("error: interrupted while starting; nothing was written\n")
    os._exit(128 + signum)


if __name__ == "__main__" and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, _interrupted_while_starting)

import argparse  # noqa: E402
import math  # noqa: E402  (after the handler above: the imports below take a moment)
import re  # noqa: E402
from dataclasses import asdict, replace  # noqa: E402

from loe_ref.activations import ACTIVATIONS  # noqa: E402
from loe_ref.backend import DEVICES, gpu_available  # noqa: E402
from loe_ref.blending import BLENDS  # noqa: E402
from loe_ref.grids import ARRANGEMENTS  # noqa: E402
from loe_ref.network import INITS, Config  # noqa: E402
from loe_ref.runs import checkpoint, folder, session  # noqa: E402
from loe_ref.runs.files import is_temporary  # noqa: E402
from loe_ref.runs.render import FORMATS, render  # noqa: E402
from loe_ref.runs.resume import load_resumable, trained_image  # noqa: E402
from loe_ref.runs.signals import InterruptSignals  # noqa: E402
from loe_ref.training import recipes  # noqa: E402
from loe_ref.training.data import BUNDLED, KINDS, prepare_signal  # noqa: E402
from loe_ref.training.synthetic import SYNTHETIC  # noqa: E402
from loe_ref.training.loop import Trainer  # noqa: E402
from loe_ref.training.options import DTYPES, SCHEDULES, TrainOptions  # noqa: E402
from loe_ref.training.sampler import SAMPLERS  # noqa: E402

MODEL_KEYS = ("grid", "act", "blend", "layers", "hidden", "tile", "omega0", "slope", "init", "pe", "sigma", "first_bias",
              "axis_scale")
#: What a recipe fixes that a resumed run must keep.
RECIPE_KEYS = ("batch", "sampler", "lr", "schedule", "beta2")
MODEL_DEFAULTS = {k: v for k, v in asdict(Config()).items() if k in MODEL_KEYS}
TRAIN_DEFAULTS = asdict(TrainOptions())


def default(key):
    """'(default X)' for the help text, from the library's own defaults."""
    value = MODEL_DEFAULTS[key] if key in MODEL_DEFAULTS else TRAIN_DEFAULTS[key]
    return f"(default {value:g})" if isinstance(value, float) else f"(default {value})"


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be a positive integer")
    return value


def non_negative_int(text):
    value = int(text) if text.lstrip("-").isdigit() else None
    if value is None or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a non-negative integer")
    return value


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{value} must be a positive number")
    return value


def parser():
    p = argparse.ArgumentParser(
        description="Fit a Levels-of-Experts implicit neural representation to an image, a sound, a video "
                    "or a volume (NumPy on the CPU, CuPy on the GPU). Options left out take the value shown or the "
                    "recipe's, or, with --resume, the checkpoint's.")
    m = p.add_argument_group("model")
    m.add_argument("--grid", choices=ARRANGEMENTS, help=f"arrangement of the expert grids {default('grid')}")
    m.add_argument("--act", choices=ACTIVATIONS, help=f"activation {default('act')}")
    m.add_argument("--blend", choices=BLENDS, help=f"expert blending {default('blend')}")
    m.add_argument("--layers", type=positive_int, help=f"position-dependent layers, before the output layer {default('layers')}")
    m.add_argument("--hidden", type=positive_int, help=f"hidden channels {default('hidden')}")
    m.add_argument("--tile", type=positive_int, help=f"cells per tile and axis, T (N = T^2 experts) {default('tile')}")
    m.add_argument("--omega0", type=positive_float,
                   help=f"frequency omega0 of sine, finer, gabor and sinc {default('omega0')}")
    m.add_argument("--slope", type=float, help=f"leaky ReLU negative slope {default('slope')}")
    m.add_argument("--sigma", type=positive_float, help=f"width sigma of gauss and gabor {default('sigma')}")
    m.add_argument("--first-bias", type=positive_float,
                   help=f"with --init finer: the first layer's biases U(-k, k) {default('first_bias')}")
    m.add_argument("--init", choices=INITS,
                   help="weight initialisation: default (PyTorch's linear layer, the default), "
                        "kaiming, siren (with --omega0 30), or finer (siren's, with --first-bias)")
    m.add_argument("--axis-scale", type=positive_float, nargs="+", metavar="S",
                   help="stretch each coordinate axis by S in every grid (one per axis: time first for a video); "
                        "default 1 on every axis, and for a sound N / the finest grid's cells, one cell per sample "
                        "(docs/signals.md)")
    m.add_argument("--pe", type=non_negative_int, help=f"positional-encoding octaves, 0 = none {default('pe')}")
    t = p.add_argument_group("training", "Options left out take the values of --recipe (short: "
                                          f"{flags(recipes.describe('short'))})")
    t.add_argument("--recipe", choices=tuple(recipes.RECIPES),
                   help="named training recipe: short (the default), table (the 512 x 512 table's "
                        "protocol, 2000 equivalents, lr 3e-3), full-batch (every pixel each step, 100 "
                        "iterations at constant lr 1e-2, beta2 0.999)")
    t.add_argument("--equivalents", type=positive_float,
                   help="training budget in full-image equivalents (iterations x batch / pixels; "
                        "replaces --iters; default: the recipe's)")
    t.add_argument("--signal", "--image", dest="image",
                   help=f"the signal to fit: a file (image; .wav sound; .gif, .mp4 or a folder of numbered frames "
                        f"for video; multi-page .tif volume; .npy of any kind), a bundled scikit-image picture "
                        f"({', '.join(BUNDLED)}), or a made signal ({', '.join(SYNTHETIC)}) {default('image')}")
    t.add_argument("--kind", choices=tuple(KINDS),
                   help="what the signal is, where its file leaves it open (default: from the file)")
    t.add_argument("--size", type=positive_int, nargs="+", metavar="N",
                   help="resample the signal before fitting: N samples (sound), H W (image), T H W (video) or "
                        "D H W (volume); with --render, the output size")
    t.add_argument("--iters", type=positive_int, help="training iterations (replaces --equivalents)")
    t.add_argument("--lr", type=positive_float, help="Adam learning rate")
    t.add_argument("--schedule", choices=SCHEDULES, help="learning-rate schedule")
    t.add_argument("--seed", type=non_negative_int, help=f"seed of the initialisation and pixel batches {default('seed')}")
    t.add_argument("--dtype", choices=DTYPES, help=f"floating-point type for training {default('dtype')}")
    t.add_argument("--batch", type=non_negative_int, help="pixels per step (0: the whole image)")
    t.add_argument("--sampler", choices=SAMPLERS,
                   help=f"how batches are drawn: epoch = one permutation of the pixels after another, "
                        f"replacement = every batch afresh {default('sampler')}")
    t.add_argument("--beta2", type=float, help="Adam's second-moment decay")
    t.add_argument("--eval-every", type=positive_int, help="iterations between PSNR evaluations")
    t.add_argument("--checkpoint-every", type=positive_int, help="iterations between checkpoints")
    t.add_argument("--chunk", type=positive_int, help=f"pixels per evaluation chunk, bounds memory {default('chunk')}")
    t.add_argument("--device", choices=DEVICES, help=f"cpu (NumPy) or gpu (CuPy) {default('device')}")
    o = p.add_argument_group("output")
    o.add_argument("--out", help="output folder (default runs/<image>-<grid>-<act>-<blend>, numbered if taken)")
    o.add_argument("--overwrite", action="store_true",
                   help="replace the run already in --out (its files are removed first); without it "
                        "a folder holding another run is refused")
    o.add_argument("--resume", metavar="CKPT", help="continue training from a checkpoint (.npz)")
    o.add_argument("--render", metavar="CKPT",
                   help="only render a checkpoint at --size into --out: a .png (image), .wav (sound), .gif (video) "
                        "or .npy (any kind) file")
    o.add_argument("--quiet", action="store_true", help="no progress bar: one log line per evaluation")
    return p


def resolve(args):
    """Config, TrainOptions, output folder, signal and the checkpoint's iteration (0 when new).

    A new run takes the options of ``--recipe`` (its budget in full-image equivalents made
    iterations for this image), a resumed one those of its checkpoint; options given on
    the command line replace either.
    """
    model, train, out, done = dict(MODEL_DEFAULTS), dict(TRAIN_DEFAULTS), args.out, 0
    if args.resume:
        saved_cfg, _, _, meta = checkpoint.load(args.resume)
        done = int(meta.get("iteration", 0))
        if meta.get("options", {}).get("device") == "gpu" and args.device is None and not gpu_available():
            raise ValueError(f"{args.resume} was trained on the GPU, and no GPU is usable here; add --device cpu "
                             f"to continue it on the CPU")
        model.update({k: getattr(saved_cfg, k) for k in model})
        train.update({k: v for k, v in meta.get("options", {}).items() if k in train})
        train["image"] = trained_image(meta, train["image"])
        out = out or os.path.dirname(os.path.abspath(args.resume))
    given = {k: v for k, v in vars(args).items() if v is not None}
    model.update({k: v for k, v in given.items() if k in model})
    given_train = {k: (list(v) if k == "size" else v) for k, v in given.items() if k in train}
    train.update({k: v for k, v in given_train.items() if k in ("image", "size", "kind")})
    signal = prepare_signal(train["image"], train["size"], train["kind"])
    d = KINDS[signal.kind]
    pixels = math.prod(signal.values.shape[:d])
    if args.resume:
        if args.recipe:                            # a resumed run keeps its checkpoint's recipe
            asked = recipes.recipe_options(args.recipe, pixels, model["init"], iters=train["iters"])
            differ = [f"{k} {asked[k]!r} (the checkpoint's: {train[k]!r})" for k in RECIPE_KEYS if asked[k] != train[k]]
            if differ:
                raise ValueError(f"--recipe {args.recipe} asks for {', '.join(differ)}, but a resumed run keeps its "
                                 f"checkpoint's recipe; leave --recipe out")
        train.update(given_train)
        if args.equivalents is not None:
            if args.iters is not None:
                raise ValueError("give the budget as --iters or as --equivalents, not both")
            train["iters"] = recipes.iterations(args.equivalents, pixels, train["batch"])
    else:
        train.update(recipes.recipe_options(args.recipe or "short", pixels, model["init"], equivalents=args.equivalents,
                                            **given_train))
    opts = TrainOptions(**train)
    cfg = Config(in_dims=d, out_channels=1 if signal.values.ndim == d else signal.values.shape[d], **model)
    if not args.resume and args.axis_scale is None:
        cfg = replace(cfg, axis_scale=recipes.axis_scale_for(signal.kind, signal.recorded, cfg))
    if out is None:
        name = os.path.splitext(os.path.basename(os.path.normpath(opts.image)))[0]
        base = os.path.join("runs", f"{name}-{cfg.grid}-{cfg.act}-{cfg.blend}")
        out, k = base, 2
        while os.path.exists(out):
            out, k = f"{base}-{k}", k + 1
    return cfg, opts, out, signal, done


#: A parameter named in a library message, `name`: run.py shows it as the flag --name.
PARAMETER = re.compile(r"`([a-z][a-z0-9_]*)`")


def flags(text):
    """A library message in the command line's words: `lr` becomes --lr, `eval_every` --eval-every."""
    return PARAMETER.sub(lambda m: "--" + m.group(1).replace("_", "-"), " ".join(str(text).split()))


def main(argv=None):
    args = parser().parse_args(argv)
    out = None
    try:
        if signal.getsignal(signal.SIGINT) is _interrupted_while_starting:
            signal.signal(signal.SIGINT, signal.default_int_handler)   # loaded: Ctrl-C caught below from here
        if args.render:
            return render_only(args)
        cfg, opts, out, fitted, done = resolve(args)
        trainer = Trainer(cfg, opts, fitted)
        if args.resume:
            load_resumable(args.resume, cfg, opts, trainer.fingerprint)   # a misfit fails before --out is made
            if done >= opts.iters and outputs_complete(out):
                trainer.close()
                more = ("give a larger --iters to train on" if opts.schedule == "constant" else
                        f"its {opts.schedule} schedule ends there, so a longer fit is a new run (--equivalents)")
                print(f"{args.resume} is already at iteration {done} (--iters {opts.iters}) and its outputs "
                      f"are complete; nothing to do: {more}.")
                return 0
        outcome = session.train_in_folder(trainer, out, resume=args.resume, overwrite=args.overwrite, quiet=args.quiet)
    except session.ERRORS as exc:
        print("error: " + flags(exc), file=sys.stderr)
        return 2
    except MemoryError as exc:                 # past the estimates (a GPU's OutOfMemoryError included)
        print("error: " + flags(session.out_of_memory(exc)), file=sys.stderr)
        return 2
    except session.Interrupted as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:                  # before the run began
        ckpt = out and os.path.join(out, folder.CHECKPOINT)
        kept = f"the last checkpoint written, {ckpt}, is kept" if ckpt and os.path.exists(ckpt) else \
            "no checkpoint was written"
        print(f"error: interrupted; {kept}", file=sys.stderr)
        return 130
    summary = outcome.summary
    if not outcome.completed:
        print(f"stopped at iteration {summary['iterations']} of {opts.iters}; resume with "
              f"python run.py --resume {os.path.join(out, folder.CHECKPOINT)}")
    peak = "no evaluation recorded yet" if summary["peak_psnr"] is None else \
        f"peak PSNR {summary['peak_psnr']:.2f} dB at iteration {summary['peak_iteration']}"
    final = "-" if summary["final_psnr"] is None else f"{summary['final_psnr']:.2f} dB"
    print(f"{peak} (final {final}; {summary['seconds']:.1f} s of training, "
          f"{summary['evaluation_seconds']:.1f} s of it in evaluations)")
    print(f"outputs in {out}")
    return outcome.exit_code


def outputs_complete(out):
    """True when folder ``out`` holds a summary and no temporary file of an interrupted write."""
    return (os.path.exists(os.path.join(out, folder.SUMMARY))
            and not any(is_temporary(f) is not None for f in os.listdir(out)))


def render_only(args):
    exts = ", ".join(f"{e} ({kinds})" for e, kinds in (
        (".png", "image"), (".wav", "sound"), (".gif", "video"), (".npy", "any kind")))
    if not args.size or not args.out:
        raise ValueError(f"--render needs --size (one size per axis of the signal) and --out, a file ending in {exts}")
    if os.path.splitext(args.out)[1].lower() not in FORMATS:
        raise ValueError(f"--out {args.out!r} must name a file ending in {exts} for --render")
    with InterruptSignals() as signals:
        try:
            render(args.render, args.size, args.out, args.device or TRAIN_DEFAULTS["device"],
                   args.chunk or TRAIN_DEFAULTS["chunk"])
        except KeyboardInterrupt:
            name = signal.Signals(signals.received or signal.SIGINT).name
            print(f"error: render interrupted by {name}; {args.out} was not written", file=sys.stderr)
            return 128 + int(signals.received or signal.SIGINT)
    print(f"rendered {args.render} at {' x '.join(map(str, args.size))} to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
