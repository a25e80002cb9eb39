"""The long accuracy check of the CPU fast paths: does bf16 + channels-last cost top-1?  D/256 is
trained from the same A/256 parent with bf16 autocast + channels-last (at quick: the profile's
own, stored run) and in fp32 eager, and both are tested as Table 4 does: dense, three scales,
each in its own arithmetic.
Writes accuracy.json, and at every profile but smoke a snapshot in results/<profile>/ that the
Departures page reads; about 20 minutes at quick on 2 cores (the fp32 run), more if the store
lacks A/256 or D/256.

    python -m vgglib.bench accuracy --profile quick --out out/bench
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from .. import evaluate
from ..augment import Normalise
from ..data import profile_splits
from ..profiles import get_profile
from ..results import RESULTS, git_commit, hardware, utc_now
from ..runs import Row, RunStore, make_spec
from ..train import dataset_id, ensure, train


def compare(profile: str, store: RunStore) -> dict:
    """Test top-1/top-5 (%) and training time of D/256 in bf16 + channels-last and in fp32 eager."""
    p = get_profile(profile)
    splits = profile_splits(p)
    parent, parent_run = ensure("A/256", p, store, splits, 0, progress=False)
    nets = {}
    for name, settings in (("bf16 + channels-last", p.with_(bf16=True, channels_last=True)),
                           ("fp32 eager", p.with_(bf16=False, channels_last=False))):
        spec = make_spec(Row.parse("D/256"), settings, dataset_id(splits), 0, store.key(parent_run))
        nets[name] = (train(spec, store, splits, settings, parent, progress=False), settings.bf16,
                      store.find(spec))
    norm = Normalise(store.stats(dataset_id(splits), splits.train).mean)
    qs = [p.scale(q) for q in evaluate.q_set(256)]
    rows = {}
    for name, (model, amp, run) in nets.items():
        post = evaluate.evaluate(model, splits.test, norm, "dense", qs, batch_size=p.eval_batch, autocast=amp)
        done = store.done(run)
        rows[name] = {**{k: round(v, 2) for k, v in evaluate.errors(post, splits.test.labels).items()},
                      "epochs": done["epochs"], "train_s": round(done["wall_s"])}
    return {"profile": p.name, "hardware": hardware(), "commit": git_commit(), "date": utc_now(),
            "row": "D/256", "test_qs_px": qs, "rows": rows}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``accuracy`` subcommand's flags."""
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--runs", default=None, help="run store (default: $VGGLIB_RUNS or ./runs)")
    parser.add_argument("--out", default="out/bench")
    parser.add_argument("--snapshot", default=None,
                        help="also write the report here (default: results/<profile>/accuracy.json, none at smoke)")


def main(args: argparse.Namespace) -> None:
    """Run the comparison and write ``accuracy.json`` (and its snapshot)."""
    started = time.perf_counter()
    report = compare(args.profile, RunStore(args.runs))
    report["wall_s"] = round(time.perf_counter() - started)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=1) + "\n"
    (out / "accuracy.json").write_text(text)
    snapshot = Path(args.snapshot) if args.snapshot else (
        None if args.profile == "smoke" else RESULTS / args.profile / "accuracy.json")
    if snapshot is not None:
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.write_text(text)
    print(text, end="")
