"""The benchmark report as people read it: Markdown for out/bench/bench.md, and pandas tables
and a throughput figure for the book's performance page.  Reads only the report's JSON."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..noise import between
from ..parts import tables
from ..results import REPO, ResultSet, machine_name
from .timing import SECTIONS


def header(report: dict) -> str:
    """One sentence: where, with what and when the report was measured."""
    line = (f"Measured on {report['hardware']} ({report['threads']} torch threads), torch {report['torch']}, "
            f"torchvision {report['torchvision']}, at the `{report['profile']}` profile, commit "
            f"`{report['commit']}`, {report['date']}; the whole run took {report['wall_s'] / 60:.1f} minutes.")
    if report["tiny"]:
        line += " **Tiny sizes: a smoke run of the code, not a measurement.**"
    return line


def _label(column: str, units: dict[str, str]) -> str:
    """A column heading: its name in words, with its unit."""
    words = column.replace("_", " ")
    return f"{words} ({units[column]})" if units.get(column, words) != words else words


def frame(tab: dict) -> pd.DataFrame:
    """One report table as a DataFrame, its headings carrying the units."""
    df = pd.DataFrame(tab["rows"])
    return df.rename(columns={c: _label(c, tab["units"]) for c in df.columns})


def frames(report: dict) -> dict[str, list[tuple[str, pd.DataFrame]]]:
    """Every section's tables as (caption, DataFrame), by section key."""
    return {key: [(t["caption"], frame(t)) for t in report["sections"][key]["tables"]]
            for key in SECTIONS if key in report["sections"]}


def _cell(value: object) -> str:
    """A value as a Markdown table cell."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1 else f"{value:,.1f}".rstrip("0").rstrip(".")
    return str(value).replace("|", "/")


def markdown_table(tab: dict) -> list[str]:
    """One report table in Markdown."""
    columns = list(dict.fromkeys(k for row in tab["rows"] for k in row))
    lines = ["| " + " | ".join(_label(c, tab["units"]) for c in columns) + " |",
             "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(c)) for c in columns) + " |" for row in tab["rows"]]
    return lines


def section_notes(report: dict, key: str) -> str:
    """A section's heading and notes in Markdown, for the book page."""
    sec = report["sections"][key]
    return "\n".join([f"### {sec['title']}", "", *[f"- {note}" for note in sec["notes"]]])


def markdown(report: dict) -> str:
    """The whole report in Markdown: a header, then each section's tables and notes."""
    lines = ["# vgglib benchmark", "", header(report), ""]
    for key in SECTIONS:
        if key not in report["sections"]:
            continue
        sec = report["sections"][key]
        lines += [f"## {sec['title']}", ""]
        for tab in sec["tables"]:
            lines += [f"*{tab['caption']}*", "", *markdown_table(tab), ""]
        lines += [f"- {note}" for note in sec["notes"]]
        lines += [f"- Section time: {sec['elapsed_s']} s.", ""]
    return "\n".join(lines)


def throughput_bars(report: dict) -> pd.DataFrame:
    """Training images/s per config and path, for the page's bar chart: the training throughput
    section's two steps and the CPU fast paths, each row naming its section by key."""
    rows = []
    sections = report["sections"]
    if "throughput" in sections:
        for r in sections["throughput"]["tables"][0]["rows"]:
            net = f"{r['config']} ({r['profile']})"
            rows.append({"section": "throughput", "net": net, "path": "model-only step",
                         "images_per_s": r["model_only_img_s"]})
            rows.append({"section": "throughput", "net": net, "path": "vgglib step with data",
                         "images_per_s": r["vgglib_step_img_s"]})
    if "fast_paths" in sections:
        profile = sections["fast_paths"]["settings"]["profile"]
        rows += [{"section": "fast_paths", "net": f"D ({profile})", "path": r["path"],
                  "images_per_s": r["images_per_s"]}
                 for r in sections["fast_paths"]["tables"][0]["rows"] if r["images_per_s"] is not None]
    return pd.DataFrame(rows, columns=["section", "net", "path", "images_per_s"])


def section_outputs(report: dict, keys: tuple[str, ...], decimals: int = 2) -> list:
    """What the page shows for some sections of a report: each one's notes (Markdown), then its
    tables in the book's table style."""
    from IPython.display import HTML, Markdown

    from ..parts.show import html

    tables, out = frames(report), []
    for key in keys:
        if key in tables:
            out.append(Markdown(section_notes(report, key)))
            out += [HTML(html(df, decimals=decimals, caption=caption)) for caption, df in tables[key]]
    return out


#: The GPU check's report, written when it runs on a GPU (``python -m vgglib.bench gpu``) and committed.
GPU_REPORT = REPO / "results" / "quick" / "gpu.json"
#: The GPU check's figures, in the order the page shows them.
GPU_COLUMNS = ("images_per_s", "tflops", "fraction_of_peak", "of_step_alone", "projected_74_epochs_h",
               "peak_memory_gib")


def gpu_frame(report: dict) -> pd.DataFrame:
    """One row per way the GPU check trained D: the step alone (eager, compiled), then fed from
    JPEGs by each data path."""
    rows = [{"training": f"step alone, {mode}", **report[mode]} for mode in ("eager", "compile") if mode in report]
    rows += [{"training": f"fed from JPEGs: {name}", **fed} for name, fed in report.get("fed", {}).items()]
    return pd.DataFrame(rows, columns=["training", *GPU_COLUMNS]).set_index("training")


def gpu_outputs(path: Path = GPU_REPORT) -> list:
    """What the page shows of the GPU check: a sentence on where it ran and its table, or a
    sentence saying it has not run on a GPU yet and how to run it."""
    from IPython.display import HTML, Markdown

    from ..parts.show import html

    if not path.is_file():
        shown = path.relative_to(REPO) if path.is_relative_to(REPO) else path
        return [Markdown(f"**Not run on a GPU yet**: `{shown}` does not exist, because no GPU has "
                         "been available to this project. On a machine with CUDA, `python -m "
                         "vgglib.bench gpu` runs the check in about six minutes and writes "
                         "it; the tests run the same code on the CPU at toy sizes.")]
    rep = json.loads(path.read_text())
    out = []
    if "quick" in rep:
        q = rep["quick"]
        out += [Markdown(gpu_quick_sentence(rep)),
                HTML(html(pd.DataFrame(q["nets"]).T.rename_axis("net"), index=True,
                          caption=f"The {q['profile']} profile's nets trained {q['epochs_each']} epochs each on "
                                  f"the GPU (last epoch)"))]
    text = (f"Measured on {rep['device']}, batch {rep['batch']} at {rep['size']} px, {rep['loader_workers']} loader "
            f"workers for the CPU path; bf16 matrix-multiply peak {rep['matmul_bf16_peak_tflops']} TFLOP/s.")
    return [*out, Markdown(text), HTML(html(gpu_frame(rep), index=True, caption="Net D trained on the GPU"))]


def gpu_quick_sentence(rep: dict) -> str:
    """The GPU check's projection of the quick Table 4 and of all records, in one sentence."""
    q = rep["quick"]
    sentence = (f"On {rep['device']}, the {q['profile']} Table 4 ({q['table4_nets']} nets, {q['table4_epochs']} "
                f"epochs) is projected to take {q['table4_projected_min']:.1f} minutes from an empty run store")
    if q.get("all_records_projected_min") is not None:
        sentence += (f", and all records {q['all_records_projected_min']:.1f} minutes (Table 4's projection times "
                     f"the ratio of all records to Table 4 on the CPU, {q['all_over_table4_on_cpu']:.2f})")
    return sentence + "."


def regeneration_frame(results: ResultSet) -> pd.DataFrame:
    """Each record's wall time and machine as its provenance states them (the time summed over
    the runs of the command that computed it), in ``make reproduce-all``'s order, with a total
    row: what regenerating every table cost.  Records computed by other commands (the
    benchmarks) carry no provenance and are left out.  "Nets' training" counts every net a
    record uses, also those an earlier record trained, so it is not summed."""
    order = list(tables())
    rows = []
    for name in sorted(results.names(), key=lambda n: (order.index(n) if n in order else len(order), n)):
        prov = results[name].get("provenance", {})
        if "wall_s" not in prov:
            continue
        rows.append({"record": name, "commit": prov["commit"], "machine": machine_name(prov.get("hardware", "")),
                     "wall (min)": round(prov["wall_s"] / 60, 1),
                     "runs of the command": prov.get("pieces", 1),
                     "nets' training (min)": round(prov.get("nets_train_s", 0) / 60, 1)})
    frame = pd.DataFrame(rows)
    if rows:
        total = {"record": "all", "commit": "", "machine": "", "wall (min)": round(frame["wall (min)"].sum(), 1),
                 "runs of the command": int(frame["runs of the command"].sum()), "nets' training (min)": None}
        frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
    return frame


def regeneration_sentence(frame: pd.DataFrame, hardware: str = "") -> str:
    """How long the regeneration took, in one sentence: Table 4 and every record together, each
    from an empty run store, on ``hardware`` where given."""
    if frame.empty:
        return "No record of this profile states its wall time."
    wall = dict(zip(frame["record"], frame["wall (min)"]))
    parts = [f"{label} took {wall[key]:.0f} minutes ({wall[key] / 60:.1f} h) from an empty run store"
             for key, label in (("table4", "Table 4 (`make reproduce-table4`)"),
                                ("all", f"all {len(frame) - 1} records together (`make reproduce-all`)"))
             if key in wall]
    return "; ".join(parts) + (f", on {hardware}." if hardware else ".")


def precision_decision(accuracy: dict) -> str:
    """The fast paths' adoption rule (at most ``ADOPT_MAX_POINTS`` of top-1 error) applied to bf16
    as trained to the end (``make bench-accuracy``), and what the profile does about it."""
    from .fast_paths import ADOPT_MAX_POINTS

    low, full = accuracy["rows"]["bf16 + channels-last"], accuracy["rows"]["fp32 eager"]
    gap = round(low["top1"] - full["top1"], 2)
    if gap <= ADOPT_MAX_POINTS:
        return f"adopt: {gap:+.2f} points of top-1 trained to the end, within the rule's {ADOPT_MAX_POINTS}"
    return (f"kept for speed, a stated departure: trained to the end it is {gap:.2f} points worse, more than the "
            f"rule's {ADOPT_MAX_POINTS}")


def with_full_length(report: dict, accuracy: dict | None) -> dict:
    """The report with the fast paths' bf16 decisions taken from bf16 trained to the end (the
    ``accuracy`` record of ``make bench-accuracy``) instead of the section's one-epoch runs,
    whose noise cannot price a fraction of a point, and a note saying so; as it is without it."""
    fast = report.get("sections", {}).get("fast_paths")
    if not accuracy or not fast:
        return report
    decision = precision_decision(accuracy)
    rows = [{**r, "decision": decision} if "bf16" in str(r.get("accuracy_from")) and
            str(r.get("decision")).startswith("adopt") else r for r in fast["tables"][0]["rows"]]
    note = (f"Decisions on bf16 come from {accuracy['row']} trained to the end in bf16 and in fp32 (`make "
            f"bench-accuracy`, commit `{accuracy.get('commit', 'unknown')}`), not from the one-epoch runs above, "
            f"whose noise is larger than the rule: {decision}.")
    tables = [{**fast["tables"][0], "rows": rows}, *fast["tables"][1:]]
    return {**report, "sections": {**report["sections"],
                                   "fast_paths": {**fast, "tables": tables, "notes": [*fast["notes"], note]}}}


def precision_sentence(accuracy: dict | None, table4: dict | None) -> str:
    """bf16 against fp32, measured (``make bench-accuracy``): D/256 trained and tested both ways
    as Table 4 does, the gap beside D/256's spread over seeds from Table 4's record, the noise of
    a comparison of two separately trained nets.  Without the report, says how to make it."""
    if not accuracy:
        return ("Not measured at this profile: `make bench-accuracy` trains D/256 in fp32 beside the "
                "bf16 run and writes `results/<profile>/accuracy.json`.")
    low, full = accuracy["rows"]["bf16 + channels-last"], accuracy["rows"]["fp32 eager"]
    gap = round(low["top1"] - full["top1"], 2)
    text = (f"Measured (`make bench-accuracy`, commit `{accuracy.get('commit', 'unknown')}`): "
            f"{accuracy['row']} trained and tested in bf16 + channels-last errs on {low['top1']:.2f}% "
            f"(top-1, dense, three scales; {low['epochs']} epochs, {low['train_s'] / 60:.0f} min), in fp32 "
            f"on {full['top1']:.2f}% ({full['epochs']} epochs, {full['train_s'] / 60:.0f} min): "
            f"bf16 is {abs(gap):.2f} points {'worse' if gap > 0 else 'better'}")
    if table4 and accuracy["row"] in table4.get("noise", {}):
        width, what = between(table4, "bf16", "fp32", low["top1"], full["top1"], measure="multi")
        inside = abs(gap) <= width
        text += (f", {'inside' if inside else 'outside'} the noise of two different nets ({what}: "
                 f"± {width:.2f} points){'' if inside else '; one fp32 seed: a single comparison'}")
    return text + f". The fast paths' adoption rule (Performance page) decides: {precision_decision(accuracy)}."
