"""What the book's first screen tells a reader, from the code and the records: what was measured
(the data set, the nets' scale, the profile), the tally of the paper's experimental claims apart
from the arithmetic ones, how long reproducing takes on the records' CPU cores and on a GPU, and
where every claim is listed.  The Claims page glues :func:`headline`; the landing page pastes it.

A GPU's times are read from ``results/<profile>/gpu.json`` where the prepared GPU check
(``python -m vgglib.bench gpu``) wrote it: ``device`` (the GPU in words) and its ``quick`` part's
projections of Table 4 and of all records, in minutes; without it the first screen says the GPU
time is not measured yet."""
from __future__ import annotations

import json
import re
from fractions import Fraction
from html import escape
from pathlib import Path

from IPython.display import HTML

from ..claims import FAILS, HOLDS, INCONCLUSIVE, Claim, tally
from ..profiles import get_profile, paper_defaults, profiles
from ..results import ResultSet, machine_name
from . import arithmetic, show

#: The data sets a profile names, as a reader knows them.
DATASETS = {"fashion-mnist": "Fashion-MNIST", "imagenet": "ILSVRC-2012 (ImageNet)", "folder": "an image folder",
            "synthetic": "synthetic images"}


def measured(profile: str) -> str:
    """What the numbers were measured on, in one sentence (HTML): data set, nets, profile."""
    from ..data import FASHION_MNIST_CLASSES

    p = get_profile(profile)
    width = "the paper's" if p.width == 1 else f"{Fraction(p.width).limit_denominator()} of the paper's"
    data = DATASETS.get(p.dataset, p.dataset)
    if p.dataset == "fashion-mnist":
        data += f" ({len(FASHION_MNIST_CLASSES)} classes of small grey items), not ImageNet"
    return (f"<b>Measured on {escape(data)}</b>, with nets of {width} width on {p.crop}-pixel crops: the "
            f"<code>{escape(profile)}</code> profile. The numbers test the direction of the paper's claims, "
            f"not its error levels.") if p.dataset == "fashion-mnist" else (
            f"<b>Measured on {escape(data)}</b> with the paper's nets: the <code>{escape(profile)}</code> profile.")


#: What each profile is for.
USES = {"smoke": "the tests: seconds", "quick": "the committed records, on CPU cores",
        "full": "the paper's scale, on GPUs (torchrun)"}


def profiles_table() -> HTML:
    """The profiles side by side, read from profiles.toml: data, nets and what each is for."""
    import pandas as pd

    rows = []
    for name, p in sorted(profiles().items(), key=lambda kv: (kv[1].crop, kv[1].width)):
        data = DATASETS.get(p.dataset, p.dataset)
        if p.dataset == "fashion-mnist":
            train = f"the first {p.train_limit:,} of the rest" if p.train_limit else "the rest"
            test = f"the first {p.test_limit:,} test images" if p.test_limit else "all test images"
            data += f": {p.val_size:,} training images held out for validation, {train} for training, {test}"
        width = "the paper's" if p.width == 1 else f"{Fraction(p.width).limit_denominator()}"
        rows.append({"profile": name, "data": data, "nets": f"{width} width, FC-{p.fc_width:,}, {p.crop}-px crops",
                     "used for": USES.get(name, "")})
    return show.table(pd.DataFrame(rows), caption="The profiles, from vgglib/profiles.toml.")


def scale_sentence(profile: str) -> str:
    """How a profile maps the paper's scales to pixels, with the paper's three training scales."""
    p, crop = get_profile(profile), paper_defaults()["crop"]
    return (f"a scale S or Q of the paper is mapped to round(S · crop / {crop}) pixels, so S = 256, 384 and "
            f"[256, 512] become {p.scale(256)}, {p.scale(384)} and [{p.scale(256)}, {p.scale(512)}] at the "
            f"{profile} profile's {p.crop}-pixel crop")


def counts(claims: list[Claim]) -> dict[str, int]:
    """How many experimental claims there are and hold, are inconclusive or fail, and how many
    arithmetic ones there are and hold (keys ``claims``, ``holds``, ``inconclusive``, ``fails``,
    ``arithmetic``, ``arithmetic_holds``)."""
    experiments = [c for c in claims if not arithmetic(c)]
    t, sums = tally([c.verdict for c in experiments]), [c for c in claims if arithmetic(c)]
    return {"claims": len(experiments), "holds": t[HOLDS], "inconclusive": t[INCONCLUSIVE], "fails": t[FAILS],
            "arithmetic": len(sums), "arithmetic_holds": tally([c.verdict for c in sums])[HOLDS]}


def tally_parts(claims: list[Claim]) -> tuple[str, str]:
    """The tally of the experimental claims, and that of the arithmetic ones, as two clauses."""
    n = counts(claims)
    sums = (f"the {n['arithmetic']} arithmetic claims (parameter and weight counts) all hold" if
            n["arithmetic_holds"] == n["arithmetic"] else
            f"{n['arithmetic_holds']} of the {n['arithmetic']} arithmetic claims (parameter and weight counts) hold")
    return (f"{n['holds']} of {n['claims']} experimental claims hold, {n['inconclusive']} are inconclusive and "
            f"{n['fails']} do not"), sums


def tally_sentence(claims: list[Claim]) -> str:
    """The tally of the experimental claims, then the arithmetic ones, in one sentence."""
    experiments, sums = tally_parts(claims)
    return f"{experiments}; {sums}."


def duration(seconds: float) -> str:
    """A wall time as a reader reads it: hours to one decimal from an hour, else minutes, else seconds."""
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}\u00a0h"
    return f"{seconds / 60:.0f}\u00a0min" if seconds >= 60 else f"{seconds:.0f}\u00a0s"


def walls(records: ResultSet) -> dict[str, float]:
    """Each record's wall time in seconds, as its provenance states it (summed over the runs of the
    command that computed it), and ``all``, their sum: what ``reproduce all`` took from an empty
    run store, since each record reuses the nets the ones before it trained."""
    out = {name: records[name]["provenance"]["wall_s"] for name in records.names()
           if "wall_s" in records[name].get("provenance", {})}
    return {**out, "all": sum(out.values())} if out else {}


def table4_from_nothing(records: ResultSet) -> float | None:
    """Table 4's wall time from an empty run store, as ``make bench-e2e`` measured it
    (``e2e.json`` beside the records: its reproduce stage), or None where it was not measured
    that way (a record's own wall time counts only what its command ran, reusing earlier nets)."""
    e2e = records.get("e2e")
    if not e2e or not e2e.get("empty_run_store") or e2e.get("table") != "table4":
        return None
    return e2e.get("stages_s", {}).get("reproduce", e2e["wall_s"])


def machines(records: ResultSet) -> dict[str, list[str]]:
    """The records each CPU computed, by the CPU's name (:func:`vgglib.results.machine_name`),
    most records first: records regenerated in pieces may come from different
    machines, and a total of their walls says so rather than name one of them."""
    share: dict[str, list[str]] = {}
    for name in walls(records):
        if name != "all":
            share.setdefault(machine_name(records[name]["provenance"]["hardware"]), []).append(name)
    return dict(sorted(share.items(), key=lambda item: -len(item[1])))


def cpu_line(records: ResultSet) -> str | None:
    """The reproduction's times on the records' CPU (every record, and Table 4 alone where it was
    timed from an empty run store), or None without timed records."""
    wall = walls(records)
    if not wall:
        return None
    hardware = records["table4" if "table4" in wall else next(iter(wall))]["provenance"]["hardware"]
    cores = re.search(r"(\d+) cores", hardware)
    share = machines(records)
    names = (next(iter(share)) if len(share) == 1 else
             ", ".join(f"{cpu} for {len(done)} of {len(wall) - 1} records" for cpu, done in share.items()))
    machine = f"{cores.group(1)} CPU cores ({names})" if cores else hardware
    table4 = table4_from_nothing(records)
    alone = f"Table 4 in {duration(table4)} and " if table4 is not None else ""
    return f"{alone}every table in {duration(wall['all'])} on {escape(machine)}"


def gpu_line(path: Path) -> str:
    """The reproduction's times on a GPU from ``path`` (``results/<profile>/gpu.json``, the GPU
    check's projections), or that they are not measured yet."""
    if not path.is_file():
        return "on one GPU: not measured yet"
    report = json.loads(path.read_text())
    quick = report.get("quick") or {}
    device = escape(report.get("device", "one GPU"))
    if quick.get("table4_projected_min") is None:
        return f"on {device}: not timed yet"
    line = f"on {device}: Table 4 in {duration(60 * quick['table4_projected_min'])} (projected)"
    if quick.get("all_records_projected_min") is not None:
        line += f" and every table in {duration(60 * quick['all_records_projected_min'])}"
    return line


def time_sentence(records: ResultSet) -> str:
    """How long reproducing the records takes from an empty run store, on their CPU and on a GPU."""
    cpu, gpu = cpu_line(records), gpu_line(records.directory / "gpu.json")
    return (f"Reproducing from nothing: {cpu}; {gpu}." if cpu else
            f"No record states its wall time yet; {gpu}.")


def headline(records: ResultSet, claims: list[Claim], profile: str, claims_page: str = "_nb/claims.html",
             departures_page: str = "_nb/departures.html") -> HTML:
    """The landing page's first screen (HTML, links relative to the book's root): what was
    measured, the tally, the time to reproduce, and where to read on."""
    time, (experiments, sums) = time_sentence(records), tally_parts(claims)
    return HTML(f'<div class="vgg-headline"><p>{measured(profile)}</p>\n'
                f'<p><span class="tally">{escape(experiments)}</span>; {escape(sums)}.</p>\n<p>{time}</p>\n'
                f'<p><a href="{claims_page}">The Claims page</a> lists every claim with its verdict and its noise; '
                f'<a href="{departures_page}">Departures</a> lists every way the reproduction differs from the '
                f'paper.</p></div>')
