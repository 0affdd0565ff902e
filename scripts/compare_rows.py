#!/usr/bin/env python3
"""Compare two finished rows of a table over their whole PSNR curves, not only their peaks.

Reads each row's summary.json (its history of evaluations: iteration, loss, PSNR,
seconds; and its batch and pixels, which turn iterations into equivalents) and prints, for row A against row B: both peaks and their difference, at how
many of the evaluations both rows share A was ahead, the first and last equivalents at
which A was not ahead, where A first reached each --at PSNR, and each row's best PSNR
within the shorter row's seconds (equal CPU time, as far as the two runs' machines and
loads were alike). docs/results.md states the table's claims with these figures.

    python scripts/compare_rows.py results/table1_512/quadtree_sine results/table1_512/quadtree_leaky_relu
"""
import argparse
import json
import os
import sys

from loe_ref.runs import folder


def load(out):
    """(summary, history) of a finished row, or a one-line exit.

    history: {iteration, loss, psnr, seconds since the start of training} per evaluation.
    """
    try:
        with open(os.path.join(out, folder.SUMMARY)) as fh:
            summary = json.load(fh)
        return summary, summary["history"]
    except (OSError, ValueError, KeyError) as err:
        sys.exit(f"error: {out!r} is not a finished row (a {folder.SUMMARY} with its history): {err}")


def curve(history):
    """{iteration: PSNR} of a history."""
    return {int(h["iteration"]): float(h["psnr"]) for h in history}


def compare(a, b, per_equivalent, thresholds=()):
    """Lines comparing curve ``a`` with curve ``b`` ({iteration: PSNR}); x in equivalents."""
    shared = sorted(set(a) & set(b))
    if not shared:
        return ["the rows share no evaluation"]
    behind = [it for it in shared if a[it] <= b[it]]
    eq = lambda it: f"{it / per_equivalent:g}"                       # noqa: E731
    lines = [f"A ahead at {len(shared) - len(behind)} of {len(shared)} shared evaluations"]
    if behind:
        lines.append(f"A not ahead at {len(behind)}: first at {eq(behind[0])}, last at {eq(behind[-1])} equivalents")
    for t in thresholds:
        first = next((it for it in sorted(a) if a[it] >= t), None)
        lines.append(f"A first at {t:g} dB or more: " + (f"{eq(first)} equivalents" if first is not None else "never"))
    return lines


def equal_time(a, b):
    """Lines giving each history's best PSNR within the shorter history's seconds."""
    limit = min(a[-1]["seconds"], b[-1]["seconds"])
    lines = [f"within {limit:g} s (the shorter row's time):"]
    for name, history in (("A", a), ("B", b)):
        it, psnr = max(((h["iteration"], h["psnr"]) for h in history if h["seconds"] <= limit), key=lambda e: e[1])
        lines.append(f"  {name} best {psnr:.2f} dB, at iteration {it}")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a", help="folder of row A")
    ap.add_argument("b", help="folder of row B")
    ap.add_argument("--at", default="", help="comma-separated PSNR values (dB) at which to report A's first arrival")
    args = ap.parse_args()
    try:
        thresholds = [float(t) for t in args.at.split(",") if t.strip()]
    except ValueError:
        sys.exit(f"error: --at {args.at!r}: expected comma-separated numbers in dB, e.g. 39.05,47")
    (sa, a), (sb, b) = load(args.a), load(args.b)
    if (sa["pixels"], sa["batch"]) != (sb["pixels"], sb["batch"]):
        sys.exit(f"error: the rows trained on different budgets per step (batch {sa['batch']} of {sa['pixels']} "
                 f"pixels, batch {sb['batch']} of {sb['pixels']})")
    per_equivalent = sa["pixels"] / (sa["batch"] or sa["pixels"])
    print(f"A {args.a}: peak {sa['peak_psnr']:.2f} dB at {sa['peak_iteration']}")
    print(f"B {args.b}: peak {sb['peak_psnr']:.2f} dB at {sb['peak_iteration']}")
    print(f"A - B: {round(sa['peak_psnr'], 2) - round(sb['peak_psnr'], 2):+.2f} dB")
    print("\n".join(compare(curve(a), curve(b), per_equivalent, thresholds) + equal_time(a, b)))


if __name__ == "__main__":
    main()
