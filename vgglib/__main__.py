"""Command line: ``python -m vgglib train --row D/256 --profile quick`` and friends.

A bad input ends the command with one or two lines naming the file or value and the fix,
and a non-zero exit status; ``--debug`` shows the traceback as well."""
from __future__ import annotations

import argparse
import signal
import sys

from .profiles import get_profile, parse_field, profiles


def parser() -> argparse.ArgumentParser:
    """The command line's sub-commands and their options."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show the traceback of an error")
    top = argparse.ArgumentParser(prog="vgglib", description=__doc__, parents=[common])
    sub = top.add_subparsers(dest="command", required=True)

    def data_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--profile", default="quick", choices=sorted(profiles()))
        p.add_argument("--data", default=None, help="data set root (default: the profile's search path)")
        p.add_argument("--dataset", default=None,
                       help="override the profile's data set: fashion-mnist, folder (any train/<class>/ "
                            "+ val/<class>/ or test/<class>/ tree), imagenet or synthetic")
        p.add_argument("--runs", default=None, help="run store directory (default: $VGGLIB_RUNS or ./runs)")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                       help="override profile fields, e.g. --set max_epochs=3 batch=64 val_size=0.1")
        p.add_argument("--quiet", action="store_true", help="no progress bars")

    t = sub.add_parser("train", parents=[common], help="train a table row and the runs its init chain needs")
    t.add_argument("--row", required=True, help="CONFIG/S, CONFIG/SMIN-SMAX or CONFIG/S:INIT, e.g. D/256")
    data_options(t)

    e = sub.add_parser("evaluate", parents=[common], help="evaluate a weight file with the paper's test protocol")
    e.add_argument("--weights", required=True, help="a vgglib .safetensors file or a torchvision VGG .pth")
    e.add_argument("--format", choices=["vgglib", "torchvision"], default=None,
                   help="weight format (default: from the file suffix)")
    source = e.add_mutually_exclusive_group(required=True)
    source.add_argument("--images", help="a folder of class subfolders, each named by one of the net's classes "
                        "or by its sanitised form (lower-case, each run of characters other than letters "
                        "and digits a '-', no '-' at the ends: 'T-shirt/top' → 't-shirt-top'); for a "
                        "net of the 1,000 ImageNet classes (torchvision's VGG weights) by WordNet id, e.g. "
                        "ILSVRC-2012 val sorted by wnid, or Imagenette's n01440764 …")
    source.add_argument("--synthetic", action="store_true", help="the tiny synthetic test set, to try the command")
    e.add_argument("--method", default="dense", help="dense, multi-crop, dense+multi-crop or centre")
    e.add_argument("--q", nargs="+", type=int, default=[256, 384, 512],
                   help="test scales Q in the paper's units (≥ 224), mapped by the net's crop")
    e.add_argument("--classes", choices=["all", "folder"], default="all",
                   help="score over all the net's classes (default: the paper's measure, e.g. the error "
                        "among all 1,000 ImageNet classes) or over the folder's classes alone (the soft-max "
                        "restricted to them, e.g. a 10-way error on Imagenette)")
    e.add_argument("--limit", type=int, default=0, help="evaluate only the first N images")
    e.add_argument("--batch", type=int, default=16)

    r = sub.add_parser("reproduce", parents=[common],
                       help="compute a table's results (training what the run store lacks)")
    r.add_argument("tables", nargs="+", metavar="TABLE", help="table2 … table12, training, or all")
    data_options(r)
    r.add_argument("--results", default=None, help="results folder (default: results/<profile>/)")
    r.add_argument("--transfer", default=None, help="Appendix B targets' folder (full profile)")
    r.add_argument("--plan", action="store_true",
                   help="print the nets to train, those the run store has, the epochs and the expected "
                        "wall time on this machine, and train nothing")
    return top


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one sub-command; a failure is reported in one message."""
    args = parser().parse_args(argv)
    try:
        run(args)
    except Exception as e:
        if args.debug:
            raise
        print(f"vgglib {args.command}: error: {e}", file=sys.stderr)
        print("(run again with --debug for the traceback)", file=sys.stderr)
        return 1
    return 0


def run(args: argparse.Namespace) -> None:
    """Run the parsed sub-command."""
    if args.command == "reproduce":
        from .reproduce import reproduce, tables

        names = list(tables()) if args.tables == ["all"] else args.tables
        if args.plan:
            from .reproduce import show_plan

            for name in names:
                show_plan(name, args.profile, args.data, args.results, args.runs, overrides(args))
            return
        signal.signal(signal.SIGTERM, _stopped)     # a SIGTERM unwinds like Ctrl-C: the time is booked
        for name in names:
            reproduce(name, args.profile, args.data, args.results, args.runs, args.seed, args.transfer,
                      progress=not args.quiet, overrides=overrides(args))
    if args.command == "evaluate":
        from .data import synthetic
        from .images import FolderImages
        from .weight_files import evaluate_weights

        images = synthetic().test if args.synthetic else FolderImages(args.images)
        if args.limit:
            images = images.subset(list(range(min(args.limit, len(images)))))
        table, scored = evaluate_weights(args.weights, images, args.method, args.q, args.format, args.batch,
                                         scope=args.classes, where=args.images or "the synthetic test set")
        print(f"{args.method} evaluation of {args.weights} on {len(images)} images, {scored}")
        for name, errs in table.items():
            print(f"  {name:>18}: top-1 {errs['top1']:6.2f}%   top-5 {errs['top5']:6.2f}%")
    if args.command == "train":
        from .data import profile_splits
        from .runs import RunStore
        from .train import ensure

        profile = get_profile(args.profile).with_(**overrides(args))
        splits = profile_splits(profile, args.data)
        model, run = ensure(args.row, profile, RunStore(args.runs), splits, args.seed,
                            progress=not args.quiet)
        print(f"trained {args.row}: {run}")


def _stopped(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def overrides(args: argparse.Namespace) -> dict:
    """The profile fields changed by ``--set FIELD=VALUE …`` and ``--dataset``, typed and checked."""
    out = {}
    for pair in args.set:
        field, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--set {pair!r}: expected FIELD=VALUE, e.g. --set max_epochs=3")
        out[field] = parse_field(field, value)
    if args.dataset:
        out["dataset"] = parse_field("dataset", args.dataset)
    return out


if __name__ == "__main__":
    sys.exit(main())
