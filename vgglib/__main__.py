"""Command line: ``python -m vgglib train --row D/256 --profile quick`` and friends."""
from __future__ import annotations

import argparse
import sys

from .profiles import get_profile, profiles


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one sub-command."""
    parser = argparse.ArgumentParser(prog="vgglib", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a table row and the runs its init chain needs")
    t.add_argument("--row", required=True, help="CONFIG/S, CONFIG/SMIN-SMAX or CONFIG/S:INIT, e.g. D/256")
    t.add_argument("--profile", default="quick", choices=sorted(profiles()))
    t.add_argument("--data", default=None, help="data set root (default: the profile's search path)")
    t.add_argument("--dataset", default=None, help="override the profile's data set, e.g. synthetic")
    t.add_argument("--runs", default=None, help="run store directory (default: $VGGLIB_RUNS or ./runs)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                   help="override profile fields, e.g. --set max_epochs=3 batch=64")
    t.add_argument("--quiet", action="store_true", help="no progress bars")

    e = sub.add_parser("evaluate", help="evaluate a weight file with the paper's test protocol")
    e.add_argument("--weights", required=True, help="a vgglib .safetensors file or a torchvision VGG .pth")
    e.add_argument("--format", choices=["vgglib", "torchvision"], default=None,
                   help="weight format (default: from the file suffix)")
    source = e.add_mutually_exclusive_group(required=True)
    source.add_argument("--images", help="a folder of class subfolders, e.g. ILSVRC-2012 val sorted by wnid")
    source.add_argument("--synthetic", action="store_true", help="the tiny synthetic test set, to try the command")
    e.add_argument("--method", default="dense", help="dense, multi-crop, dense+multi-crop or centre")
    e.add_argument("--q", nargs="+", type=int, default=[256, 384, 512], help="test scales Q")
    e.add_argument("--limit", type=int, default=0, help="evaluate only the first N images")
    e.add_argument("--batch", type=int, default=16)

    r = sub.add_parser("reproduce", help="compute a table's results (training what the run store lacks)")
    r.add_argument("tables", nargs="+", metavar="TABLE", help="table2 … table12, training, or all")
    r.add_argument("--profile", default="quick", choices=sorted(profiles()))
    r.add_argument("--data", default=None, help="data set root (default: the profile's search path)")
    r.add_argument("--results", default=None, help="results folder (default: results/<profile>/)")
    r.add_argument("--runs", default=None, help="run store directory (default: $VGGLIB_RUNS or ./runs)")
    r.add_argument("--transfer", default=None, help="Appendix B targets' folder (full profile)")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--quiet", action="store_true", help="no progress bars")

    args = parser.parse_args(argv)
    if args.command == "reproduce":
        from .reproduce import reproduce, tables

        names = list(tables()) if args.tables == ["all"] else args.tables
        for name in names:
            reproduce(name, args.profile, args.data, args.results, args.runs, args.seed, args.transfer,
                      progress=not args.quiet)
    if args.command == "evaluate":
        from .data import synthetic
        from .evaluate import evaluate_weights
        from .images import FolderImages

        images = synthetic().test if args.synthetic else FolderImages(args.images)
        if args.limit:
            images = images.subset(list(range(min(args.limit, len(images)))))
        table = evaluate_weights(args.weights, images, args.method, args.q, args.format, args.batch)
        print(f"{args.method} evaluation of {args.weights} on {len(images)} images")
        for name, errs in table.items():
            print(f"  {name:>12}: top-1 {errs['top1']:6.2f}%   top-5 {errs['top5']:6.2f}%")
    if args.command == "train":
        from .data import profile_splits
        from .runs import RunStore
        from .train import ensure

        profile = get_profile(args.profile).with_(**parse_overrides(args.set, args.profile))
        if args.dataset:
            profile = profile.with_(dataset=args.dataset)
        splits = profile_splits(profile, args.data)
        model, run = ensure(args.row, profile, RunStore(args.runs), splits, args.seed,
                            progress=not args.quiet)
        print(f"trained {args.row}: {run}")
    return 0


def parse_overrides(pairs: list[str], profile: str) -> dict:
    """``FIELD=VALUE`` strings as typed profile fields (typed like the profile's own values)."""
    base = get_profile(profile).as_dict()
    out = {}
    for pair in pairs:
        field, sep, value = pair.partition("=")
        if not sep or field not in base:
            raise SystemExit(f"--set {pair!r}: expected FIELD=VALUE with FIELD one of {sorted(base)}")
        kind = type(base[field])
        out[field] = value.lower() in ("1", "true", "yes") if kind is bool else kind(value)
    return out


if __name__ == "__main__":
    sys.exit(main())
