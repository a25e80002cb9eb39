"""Result files and their provenance: the small JSON records that the book renders.

A table's numbers are written once by the run that produced them, with when, at which
commit, on what hardware, at which profile and in how long; pages show that record."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import torch

from .files import write_json
from .profiles import native_bf16

REPO = Path(__file__).resolve().parent.parent
#: Committed quick-profile results live here; smoke runs write elsewhere (tests pass a tmp dir).
RESULTS = REPO / "results"


def git_commit() -> str:
    """The current commit (with ``+dirty`` when the code has uncommitted changes), or ``unknown``.

    Changes under ``results/`` do not count: they are this command's own outputs, so the second
    table of ``reproduce all`` from a clean commit is as clean as the first."""
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":(exclude)results"], cwd=REPO, capture_output=True, text=True).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def hardware() -> str:
    """A one-line description of the machine: the GPUs, or the CPU's model, cores and widest vector
    extension, and whether it computes bf16 in hardware (two CPUs of one model name can differ in
    both, and a training step's speed tenfold with them)."""
    if torch.cuda.is_available():
        n = torch.cuda.device_count()
        return f"{n}× {torch.cuda.get_device_name(0)}"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    bf16 = ", bf16 in hardware" if native_bf16() else ""
    return f"{cpu}, {os.cpu_count()} cores, {torch.backends.cpu.get_cpu_capability()}{bf16}, CPU only"


def machine_name(hardware: str) -> str:
    """The machine's name in a :func:`hardware` line (its first field: the CPU's model or the
    GPUs), for tables and sentences that name the machine each record came from."""
    return hardware.split(",")[0]


def utc_now() -> str:
    """The date every record and report states, to the minute in UTC (``2026-12-01 03:36 UTC``)."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def provenance(profile: str, started: float, **extra) -> dict:
    """The record a results page shows: profile, commit, hardware, date and wall time."""
    return {"profile": profile, "commit": git_commit(), "hardware": hardware(),
            "torch": torch.__version__,
            "date": utc_now(), "wall_s": round(time.time() - started, 1), **extra}


def results_dir(profile: str, root: str | Path | None = None) -> Path:
    """Where a profile's table results are written (``results/<profile>`` by default)."""
    d = Path(root) if root else RESULTS / profile
    d.mkdir(parents=True, exist_ok=True)
    return d


def save_result(name: str, data: dict, directory: Path) -> Path:
    """Write one table's results (with its provenance inside ``data``) as JSON."""
    path = directory / f"{name}.json"
    write_json(path, data)
    return path


def load_result(name: str, directory: Path) -> dict:
    """Read one table's results, or explain how to produce them."""
    path = directory / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"no results at {path}; compute them with `python -m vgglib reproduce "
                                f"{name} --profile <profile>` (or vgglib.reproduce.reproduce({name!r}))")
    return json.loads(path.read_text())


class ResultSet:
    """The result files of one profile, read lazily by table name (``results["table4"]``)."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self._cache: dict[str, dict] = {}

    def __contains__(self, name: str) -> bool:
        return name in self._cache or (self.directory / f"{name}.json").is_file()

    def __getitem__(self, name: str) -> dict:
        if name not in self._cache:
            self._cache[name] = load_result(name, self.directory)
        return self._cache[name]

    def get(self, name: str) -> dict | None:
        """Record ``name``, or None where the directory lacks it (a page's optional measurement)."""
        return self[name] if name in self else None

    def names(self) -> list[str]:
        """Every record in the directory, by name."""
        return sorted(p.stem for p in self.directory.glob("*.json"))


def retrained_since(name: str, results: ResultSet) -> list[str]:
    """What makes record ``name`` stale: for each later record of the same data set that used
    another run of some of the same nets (another key: retrained with changed code or settings),
    a phrase naming those nets and that record.  A record that only reuses other records (its
    ``uses``) is stale when they are.  Empty when the record is current."""
    record = results[name]
    if record.get("uses"):
        return [f"{_table_name(n)}'s {s}" for n in record["uses"] if n in results for s in retrained_since(n, results)]
    prov = record.get("provenance", {})
    mine, stale = prov.get("runs", {}), []
    for other in results.names():
        theirs = results[other].get("provenance", {}) if other != name else {}
        if theirs.get("dataset") != prov.get("dataset") or theirs.get("date", "") <= prov.get("date", ""):
            continue
        changed = sorted(net for net, run in theirs.get("runs", {}).items() if net in mine and mine[net] != run)
        if changed:
            stale.append(f"{', '.join(changed)} retrained for {_table_name(other)} on {theirs['date']}")
    return stale


def _table_name(name: str) -> str:
    """``table5`` → ``Table 5``; other record names as they are."""
    return f"Table {name[5:]}" if name.startswith("table") and name[5:].isdigit() else name


def stale_note(name: str, retrained: list[str]) -> str:
    """The bold sentence of a stale page: what was retrained since, and the command that redoes it."""
    return (f" **Stale: {'; '.join(retrained)}, after these numbers were computed.** "
            f"`make reproduce-{name}` recomputes them with today's nets.")


def provenance_line(prov: dict, uses: dict[str, dict] | None = None, retrained: list[str] | None = None,
                    name: str = "") -> str:
    """One sentence for a page: profile, hardware, commit, date, wall time.  A record that
    only reuses other tables' records (its ``uses``: name → their provenance) says so and
    gives theirs instead of its own near-zero wall time.  ``retrained`` (from
    :func:`retrained_since`) marks the record ``name`` stale."""
    stale = stale_note(name, retrained) if retrained else ""
    if uses:
        names = [_table_name(n) for n in uses]
        joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        lines = " ".join(f"{_table_name(n)}: {provenance_line(p)}" for n, p in uses.items())
        return (f"This page computes nothing of its own: it reuses the results of {joined}, "
                f"rendered at the `{prov['profile']}` profile. {lines}{stale}")
    line = (f"Produced at the `{prov['profile']}` profile on {prov['hardware']} at commit "
            f"`{prov['commit']}` on {prov['date']}" + (f" (torch {prov['torch']})" if "torch" in prov else ""))
    if "wall_s" in prov:
        line += f", in {prov['wall_s'] / 60:.1f} minutes"
        if prov.get("pieces", 1) > 1:
            line += f" over {prov['pieces']} runs of the command (stopped and resumed)"
    if prov.get("nets"):
        n = prov["nets"]
        line += (f"; its {n} {'net' if n == 1 else 'nets'} took "
                 f"{prov.get('nets_train_s', 0) / 60:.1f} minutes to train")
    if prov.get("loc_nets_train_s"):
        line += f"; its localisation nets took {prov['loc_nets_train_s'] / 60:.1f} minutes to fine-tune"
    if "fingerprint" in prov:
        source = f" at `{prov['data_root']}`" if prov.get("data_root") else ""
        line += f"; data set `{prov['dataset']}`{source}, content fingerprint `{prov['fingerprint']}`"
    line += "."
    if prov["commit"].endswith("+dirty") or prov["commit"] == "unknown":
        line += (" **Built from a working tree with uncommitted changes** (or outside git): no "
                 "commit holds the code that produced these numbers.")
    return line + stale
