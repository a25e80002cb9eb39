"""``python -m vgglib reproduce table4 --profile quick``: train what the run store lacks,
evaluate, and write ``results/<profile>/<table>.json`` with its CSVs and the claims file.

A table that reads other tables' records (Table 7 reads 5 and 6, Table 10 reads 9) has them
computed first when their files are missing, and never embeds copies of them."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

from . import claims as claim_model
from . import selection
from .files import write_json
from .parts import Table, all_claims, all_frames, tables
from .profiles import get_profile
from .results import ResultSet, results_dir, save_result
from .runs import RunStore

if TYPE_CHECKING:
    from .data import Splits
    from .plan import Plan
    from .profiles import Profile


def table(name: str) -> Table:
    """A registered table, or an error naming them all."""
    known = tables()
    if name not in known:
        raise ValueError(f"unknown table {name!r}; valid: {', '.join(known)}, all")
    return known[name]


def reproduce(name: str, profile: str = "quick", data_root: str | Path | None = None,
              results_root: str | Path | None = None, runs: str | Path | None = None, seed: int = 0,
              transfer_root: str | Path | None = None, progress: bool = True,
              overrides: dict | None = None, choices: dict | None = None) -> dict:
    """Compute one table's record (and any missing record it needs), write it with the CSV
    exports, and return it.  ``choices`` (rows, test scales, method, noise seeds) computes a part
    of the table instead, written to its own folder (:mod:`vgglib.selection`), never over the
    table.  ``overrides`` changes profile fields (``--set``, ``--dataset``):
    e.g. ``dataset="folder"`` with ``data_root`` runs the table on any image-folder tree;
    the record's provenance names the data set and its fingerprint.  A table whose nets are
    declared (:func:`vgglib.plan.plan_table`) prints its plan first and shows one progress bar
    over all their epochs."""
    entry, p = table(name), get_profile(profile).with_(**(overrides or {}))
    picked, out = selection.chosen(name, choices or {}), results_dir(profile, results_root)
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
        ledger, key = store.root / LEDGER, f"{p.name}/{p.dataset}/{selection.stem(name, picked)}"
        bar = None
        try:
            splits = profile_splits(p, data_root)
            table_plan = plan(name, p, splits, store, out) if progress and seed == 0 and not picked else None
            if table_plan is not None:
                print(table_plan.text(), flush=True)
                bar = table_plan.bar()
            study = Study(p, store, splits, seed, progress=progress, bar=bar)
            kw = {"root": transfer_root} if entry.transfer_root else {}
            record = entry.compute(study, **needs, **kw, **picked)
        except BaseException:       # stopped (Ctrl-C, SIGTERM) or failed: its time waits for the rerun
            book_time(ledger, key, time.time() - started)
            raise
        finally:
            if bar is not None:
                bar.close()
        earlier, pieces = take_time(ledger, key)
        record["provenance"]["runs"] = study.runs()
        if pieces:
            record["provenance"]["wall_s"] = round(record["provenance"]["wall_s"] + earlier, 1)
            record["provenance"]["pieces"] = pieces + 1
    else:
        record = entry.compute(p)
    if picked:
        record["selection"] = picked
        out = results_dir(profile, out / selection.stem(name, picked))
    save_result(name, record, out)
    export(out)
    if progress:
        print(f"{name}: {out / (name + '.json')} in {(time.time() - started) / 60:.1f} min")
    return record


def plan(name: str, p: Profile, splits: Splits, store: RunStore, results: Path) -> Plan | None:
    """The plan of a table whose nets are declared (probed on this machine), else None."""
    from .plan import PLANNED, plan_table

    return plan_table(name, p, splits, store, results) if name in PLANNED else None


def show_plan(name: str, profile: str = "quick", data_root: str | Path | None = None,
              results_root: str | Path | None = None, runs: str | Path | None = None,
              overrides: dict | None = None) -> Plan | None:
    """The plan of one table (``reproduce TABLE --plan``), printed, without training anything;
    None (and a line saying so) for a table that declares no nets."""
    from .data import profile_splits

    table(name)
    p = get_profile(profile).with_(**(overrides or {}))
    table_plan = plan(name, p, profile_splits(p, data_root), RunStore(runs), results_dir(profile, results_root))
    from .plan import PLANNED

    print(table_plan.text() if table_plan else f"{name}: no plan; it declares no nets of its own (it trains "
          f"what its driver asks, reusing the run store). Tables with a plan: {', '.join(PLANNED)}.")
    return table_plan


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
