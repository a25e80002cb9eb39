"""``python -m vgglib reproduce table4 --profile quick``: train what the run store lacks,
evaluate, and write ``results/<profile>/<table>.json`` with its CSVs and the claims file.

A table that reads other tables' records (Table 7 reads 5 and 6, Table 10 reads 9) has them
computed first when their files are missing, and never embeds copies of them."""
from __future__ import annotations

import json
import time
from pathlib import Path

from . import claims as claim_model
from .files import write_json
from .parts import Table, all_claims, all_frames, tables
from .profiles import get_profile
from .results import ResultSet, results_dir, save_result
from .runs import RunStore


def table(name: str) -> Table:
    """A registered table, or an error naming them all."""
    known = tables()
    if name not in known:
        raise ValueError(f"unknown table {name!r}; valid: {', '.join(known)}, all")
    return known[name]


def reproduce(name: str, profile: str = "quick", data_root: str | Path | None = None,
              results_root: str | Path | None = None, runs: str | Path | None = None, seed: int = 0,
              transfer_root: str | Path | None = None, progress: bool = True,
              overrides: dict | None = None) -> dict:
    """Compute one table's record (and any missing record it needs), write it with the CSV
    exports, and return it.  ``overrides`` changes profile fields (``--set``, ``--dataset``):
    e.g. ``dataset="folder"`` with ``data_root`` runs the table on any image-folder tree;
    the record's provenance names the data set and its fingerprint."""
    entry, p = table(name), get_profile(profile).with_(**(overrides or {}))
    out = results_dir(profile, results_root)
    needs = {}
    for need in entry.needs:
        if need not in ResultSet(out):
            reproduce(need, profile, data_root, results_root, runs, seed, transfer_root, progress, overrides)
        needs[need] = ResultSet(out)[need]
    started = time.time()
    if entry.study:
        from .data import profile_splits
        from .study import Study

        store = RunStore(runs)
        ledger, key = store.root / LEDGER, f"{p.name}/{p.dataset}/{name}"
        try:
            study = Study(p, store, profile_splits(p, data_root), seed, progress=progress)
            kw = {"root": transfer_root} if entry.transfer_root else {}
            record = entry.compute(study, **needs, **kw)
        except BaseException:       # stopped (Ctrl-C, SIGTERM) or failed: its time waits for the rerun
            book_time(ledger, key, time.time() - started)
            raise
        earlier, pieces = take_time(ledger, key)
        record["provenance"]["runs"] = study.runs()
        if pieces:
            record["provenance"]["wall_s"] = round(record["provenance"]["wall_s"] + earlier, 1)
            record["provenance"]["pieces"] = pieces + 1
    else:
        record = entry.compute(p)
    save_result(name, record, out)
    export(out)
    if progress:
        print(f"{name}: {out / (name + '.json')} in {(time.time() - started) / 60:.1f} min")
    return record


#: The run store's ledger of time spent on tables whose computation was stopped before its
#: record was written: the run that completes the table adds it, so a table computed in
#: pieces (a run store resumes) records the wall time of all of them.
LEDGER = "reproduce-time.json"


def book_time(ledger: Path, key: str, seconds: float) -> None:
    """Add a stopped piece's ``seconds`` to ``key``'s entry in the ledger."""
    entries = json.loads(ledger.read_text()) if ledger.exists() else {}
    s, n = entries.get(key, (0.0, 0))
    entries[key] = (round(s + seconds, 1), n + 1)
    write_json(ledger, entries)


def take_time(ledger: Path, key: str) -> tuple[float, int]:
    """The seconds and number of stopped pieces booked for ``key``, removed from the ledger."""
    entries = json.loads(ledger.read_text()) if ledger.exists() else {}
    if key not in entries:
        return 0.0, 0
    s, n = entries.pop(key)
    write_json(ledger, entries)
    return s, n


def export(directory: str | Path) -> None:
    """Write ``claims.csv`` (one row per claim, with its verdict) and one CSV per table frame
    into ``directory/csv``, from the records there: what the book offers for download."""
    directory = Path(directory)
    results = ResultSet(directory)
    claim_model.frame(all_claims(results)).to_csv(directory / "claims.csv", index=False)
    csv = directory / "csv"
    csv.mkdir(exist_ok=True)
    for stem, df in all_frames(results).items():
        df.to_csv(csv / f"{stem}.csv", index=df.index.name is not None)
