"""Section notebooks that compute their section, and the command that runs them.

Each section notebook (``notebooks/table4_multi_scale.md``) declares, besides ``profile`` and
``results_dir``, a ``compute`` mode, the choices its table offers (:mod:`vgglib.selection`: rows,
test scales, evaluation method, noise seeds) and the data it reads.  Its compute cell calls
:func:`section`, which computes through :func:`vgglib.reproduce.reproduce` — the command line's
own code path, so the run store trains only what it lacks and cached posteriors are reused — and
returns the folder the notebook's render cells read.  The book executes every notebook with
``compute = "render"``: it only renders stored records.

``python -m vgglib.notebook table4 --profile smoke`` (what ``make reproduce-table4`` runs)
executes the table's notebook with papermill, compute on, and keeps the executed notebook, with
its progress and timings, beside the record as the run's log: ``results/<profile>/logs/table4.ipynb``.
"""
from __future__ import annotations

import argparse
import signal
import sys
import tempfile
from pathlib import Path

from . import selection
from .parts import tables
from .profiles import parse_field, profiles
from .results import REPO
from .results import results_dir as records_dir

NOTEBOOKS = REPO / "notebooks"
#: What a compute cell may do: render the stored record, compute it only where it is missing,
#: or compute it again (training only what the run store lacks).
MODES = ("render", "missing", "recompute")
#: What the command says when it is stopped (Ctrl-C, or a SIGTERM passed to its kernel).
STOPPED = "vgglib.notebook: stopped; the same command continues from the run store"


def notebook_of(name: str) -> Path | None:
    """The notebook that computes table ``name``: its page, for a table computed from data that
    is its page's own; None for Tables 1–2 (computed from code alone) and for the optional
    diagnoses that a page shows beside its table, which only the command line computes."""
    entry = tables()[name]
    return NOTEBOOKS / f"{entry.page}.md" if entry.study and not entry.optional else None


def parameters(name: str) -> list[str]:
    """The parameters, in order, of the notebook that computes table ``name``: the profile and
    the records' folder, the compute mode, the table's choices, the data set's folder and
    profile changes, and the Appendix B targets' folder for the tables that read them."""
    transfer = ["transfer"] if tables()[name].transfer_root else []
    return ["profile", "results_dir", "compute", *selection.choices(name), "data", "overrides", *transfer]


def profile_changes(overrides: dict | None) -> dict:
    """Profile fields to change, typed and checked: ``{"max_epochs": 3}``, or from text as
    ``make``'s ``SET`` gives them, ``{"max_epochs": "3"}``; ``dataset`` among them."""
    return {k: parse_field(k, v) if isinstance(v, str) else v for k, v in (overrides or {}).items()}


def section(name: str, profile: str, compute: str = "render", results_dir: str | Path | None = None,
            data: str | Path | None = None, overrides: dict | None = None, transfer: str | Path | None = None,
            **choices: object) -> str | Path | None:
    """A section notebook's compute cell: compute table ``name`` as ``compute`` says, and
    return the folder its render cells read — ``results_dir`` itself for the whole table, the
    selection's own folder (``<results>/<table>-<choices>/``) for a part of it.  Choices left
    ``None`` are the table's own."""
    if compute not in MODES:
        raise ValueError(f"compute = {compute!r}: choose one of {', '.join(MODES)}")
    picked = selection.chosen(name, choices)
    base = records_dir(profile, results_dir)
    folder = base / selection.stem(name, picked) if picked else base
    record = folder / f"{name}.json"
    if compute == "recompute" or (compute == "missing" and not record.is_file()):
        from .reproduce import reproduce

        previous = signal.signal(signal.SIGTERM, _stopped)  # the kernel stopped: its time is booked for the rerun
        try:
            reproduce(name, profile, data, results_dir, transfer_root=transfer,
                      overrides=profile_changes(overrides), choices=picked)
        finally:
            signal.signal(signal.SIGTERM, previous)
    elif not record.is_file():
        raise FileNotFoundError(f"no record {record} yet: set compute = \"missing\" in the parameters cell "
                                f"(or run `make reproduce-{name} PROFILE={profile}`) to compute it")
    return folder if picked else results_dir


def _stopped(signum: int, frame: object) -> None:
    """A SIGTERM (a kernel shut down while it computes) unwinds like Ctrl-C."""
    raise SystemExit(128 + signum)


def run(name: str, profile: str = "quick", results: str | Path | None = None, data: str | Path | None = None,
        overrides: dict | None = None, transfer: str | Path | None = None, kernel: str = "vgglib") -> Path:
    """Compute table ``name``'s record by executing its notebook with ``compute = "recompute"``
    (its parameters checked against the ones it declares), printing its output as it runs, and
    keep the executed notebook as the run's log; return the log.  A table without a notebook of
    its own is computed by :func:`vgglib.reproduce.reproduce` directly and its record returned."""
    import papermill as pm

    from .book import check_parameters, convert

    md = notebook_of(name)
    out = records_dir(profile, results)
    if md is None:
        from .reproduce import reproduce

        reproduce(name, profile, data, results, transfer_root=transfer, overrides=profile_changes(overrides))
        return out / f"{name}.json"
    given = {"profile": profile, "results_dir": str(out.resolve()) if results else None, "compute": "recompute",
             "data": str(Path(data).resolve()) if data else None, "overrides": profile_changes(overrides) or None,
             "transfer": str(Path(transfer).resolve()) if transfer and tables()[name].transfer_root else None}
    params = {k: v for k, v in given.items() if v is not None}
    log = out / "logs" / f"{name}.ipynb"
    log.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = convert(md, Path(tmp) / f"{md.stem}.ipynb")
        check_parameters(src, params)
        print(f"{name}: executing {md.relative_to(REPO)} (log: {log})", flush=True)
        pm.execute_notebook(str(src), str(log), parameters=params, kernel_name=kernel, cwd=str(REPO),
                            progress_bar=False, stdout_file=sys.stdout, stderr_file=sys.stderr,
                            coalesce_streams=True)
    return log


def main(argv: list[str] | None = None) -> int:
    """``python -m vgglib.notebook TABLE… [--profile P]``: each table's notebook executed with
    compute on (``all``: every table, in the paper's order); a failure ends it in one message."""
    ap = argparse.ArgumentParser(prog="python -m vgglib.notebook", description=__doc__.split("\n\n")[0])
    ap.add_argument("tables", nargs="+", metavar="TABLE", help="table2 … table12, training, or all")
    ap.add_argument("--profile", default="quick", choices=sorted(profiles()))
    ap.add_argument("--results", default=None, help="results folder (default: results/<profile>/)")
    ap.add_argument("--data", default=None, help="data set root (default: the profile's search path)")
    ap.add_argument("--dataset", default=None, help="override the profile's data set (fashion-mnist, folder, …)")
    ap.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE", help="override profile fields")
    ap.add_argument("--transfer", default=None, help="Appendix B targets' folder (full profile)")
    a = ap.parse_args(argv)
    stopped: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: _pass_to_kernel(signum, stopped))
    try:
        changes = dict(_pair(text) for text in a.set) | ({"dataset": a.dataset} if a.dataset else {})
        names = list(tables()) if a.tables == ["all"] else a.tables
        unknown = sorted(set(names) - set(tables()))
        if unknown:
            raise ValueError(f"unknown table {', '.join(unknown)}; valid: {', '.join(tables())}, all")
        for name in names:
            print(f"{name}: {run(name, a.profile, a.results, a.data, changes, a.transfer)}", flush=True)
    except KeyboardInterrupt:
        print(STOPPED, file=sys.stderr)
        return 130
    except Exception as e:
        if stopped:  # the kernel's cell ended on the stop passed to it: its time is booked
            print(STOPPED, file=sys.stderr)
            return 128 + stopped[0]
        print(f"vgglib.notebook: error: {e}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def _pass_to_kernel(signum: int, stopped: list[int]) -> None:
    """A SIGTERM to this command (a queue's stop, a session's end) passed on to the kernel it runs:
    the kernel's compute cell books the piece's wall time in the run store and unwinds, so the
    rerun's record counts both pieces.  Ending here instead would leave the kernel to notice its
    parent gone and exit without booking anything."""
    import psutil

    stopped.append(signum)
    for child in psutil.Process().children():
        child.send_signal(signum)


def _pair(text: str) -> tuple[str, str]:
    """``FIELD=VALUE`` split, or an error showing the form."""
    field, sep, value = text.partition("=")
    if not sep:
        raise ValueError(f"--set {text!r}: expected FIELD=VALUE, e.g. --set max_epochs=3")
    return field, value


if __name__ == "__main__":
    sys.exit(main())
