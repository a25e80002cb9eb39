"""Paper §3.1: the init chain against training from scratch, at a profile's scale."""
from __future__ import annotations

import json
import time

from ... import evaluate
from ...study import Study, scale_of


def training(study: Study, deep: str = "D/256") -> dict:
    """§3.1 at this profile: the learning curves of the init chain (A, then the deep net from
    A) beside the deep net trained from random init, and the deep net's test error."""
    started = time.time()
    rows = ("A/256", deep, f"{deep}:{study.profile.init}")
    curves = {}
    for row in rows:
        _, run = study.net(row)
        curves[row] = json.loads((run / "metrics.json").read_text())
    s = scale_of(deep)
    qs = list(evaluate.q_set(s))
    test = {row: study.scores([row], "dense", qs) for row in rows[1:]}
    pairs = {f"{rows[2]} vs {deep}": {"multi": study.paired_se(([rows[2]], "dense", qs), ([deep], "dense", qs))}}
    return {"curves": curves, "test": test, "pairs": pairs, "provenance": study.record(started)}
