"""Claims as data: one three-way verdict, every claim encoded as the paper states it, and
every committed result rendered through the report code exactly as committed."""
import json
from pathlib import Path

import pandas as pd
import pytest

from vgglib import claims, paper
from vgglib import noise as noise_model
from vgglib.parts import all_claims, all_frames
from vgglib.parts.architecture import run as arch_run
from vgglib.parts.classification import measurements as cls_measure
from vgglib.parts.classification import paper_claims as cls_claims
from vgglib.parts.classification import report as cls_report
from vgglib.parts.classification import rows as cls_rows
from vgglib.parts.localisation.report import PAPER_CLAIMS
from vgglib.parts.transfer.report import CLAIMS11, _paper_pair
from vgglib.profiles import get_profile
from vgglib.results import ResultSet, provenance_line

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("direction,a,b,noise,margin,expected", [
    ("better", 10.0, 12.0, 0.0, 0.0, "holds"), ("better", 12.0, 10.0, 0.0, 0.0, "does not hold"),
    ("better", 10.0, 10.3, 0.5, 0.0, "inconclusive"), ("better", 10.0, 10.0, 0.0, 0.0, "inconclusive"),
    ("better", 10.0, 10.36, 0.36, 0.0, "inconclusive"),     # the interval touches zero: no float rounding decides
    ("better", 10.0, 10.37, 0.36, 0.0, "holds"),
    ("no worse", 10.0, 10.0, 0.0, 0.0, "holds"), ("no worse", 10.4, 10.0, 0.5, 0.0, "inconclusive"),
    ("no worse", 10.4, 10.0, 0.1, 0.5, "holds"), ("no worse", 11.0, 10.0, 0.3, 0.5, "does not hold"),
    ("equal", 10.3, 10.0, 0.0, 0.0, "does not hold"), ("equal", 10.3, 10.0, 0.5, 0.0, "inconclusive"),
    ("equal", 10.3, 10.0, 0.5, 1.0, "holds"), ("equal", 10.0, 10.0, 2.0, 1.0, "inconclusive"),
    ("equal", 11.0, 10.0, 0.3, 0.5, "does not hold"),
])
def test_verdicts_read_the_interval_of_the_gap(direction, a, b, noise, margin, expected):
    """Better: the interval above or below zero; no worse and equal: against ±margin, so that
    a large noise never makes two numbers equal."""
    assert claims.verdict(direction, a, b, noise, margin=margin) == expected


def test_verdict_on_scores_margin_and_bad_direction():
    assert claims.verdict("better", 80.0, 79.0, 0.5, higher_is_better=True) == "holds"
    assert claims.verdict("no worse", 79.0, 80.0, 0.5, higher_is_better=True) == "does not hold"
    assert claims.verdict("equal", 10.4, 10.0, 0.0, margin=0.5) == "holds"
    assert claims.verdict("equal", 10.7, 10.0, 0.3, margin=0.5) == "inconclusive"
    with pytest.raises(ValueError, match="better, no worse, equal"):
        claims.verdict("worse", 1.0, 2.0)


def test_the_equivalence_margin_is_the_smallest_effect_the_paper_calls_real():
    effects = claims.paper_effects()
    assert claims.EQUIVALENCE == pytest.approx(0.5 / 28.2) == min(effects.values())
    assert effects["C over B (S = 256)"] == pytest.approx((28.2 - 27.7) / 28.2)
    claim = claims.Claim("x/y", "x", "§4.2", "E ≈ D", "equal", (8.6, 8.5), (26.9, 26.6), 0.0, "exact",
                         margin=claims.EQUIVALENCE, relative=True)
    assert claim.margin_for(8.5) == 0.15 and claim.margin_for(26.6) == 0.47
    assert claim.verdict == "holds" and claim.paper_verdict == "holds"
    assert claim.record()["margin"] == 0.15


def row(top1: float, qs=(256,)) -> dict:
    return {"top1": top1, "top5": round(top1 / 3, 2), "Q": list(qs), "Q_px": [round(q / 7) for q in qs]}


def paper_as_ours() -> dict[str, dict]:
    """Result records holding the paper's own numbers, with zero noise."""
    noise = {r: {"seeds": {"0": {"single": 1.0, "multi": 1.0}}} for r in ("D/256", "D/256-512")}
    p3, p4 = paper.TABLE3, paper.TABLE4
    t5 = {r: {"dense": row(m["dense"][0]), "multi-crop": row(m["multi-crop"][0]),
              "dense+multi-crop": row(m["multi-crop & dense"][0]),
              "paired_se": {"multi-crop vs dense": 0.0, "combined vs best": 0.0}} for r, m in paper.TABLE5.items()}
    pairs3 = {f"{a} vs {b}": {"single": 0.0, "centre": 0.0} for a, b in (*cls_rows.TABLE3_PAIRS, cls_rows.SHALLOW_PAIR)}
    pairs4 = {f"{a} vs {b}": {"multi": 0.0} for a, b in cls_rows.table4_pairs()}

    def fusion(name: str, top1: float) -> dict:
        method = name.rsplit(", ", 1)[1]
        nets = paper.SUBMISSION_NETS if name.startswith("ILSVRC") else cls_rows.JITTERED
        best = min(p4[r][0] if method == "dense" else paper.TABLE5[r][method][0] for r in nets)
        return {**row(top1), "best_single": {"net": "x", "top1": best}, "paired_se": 0.0}
    prov = {"profile": "quick", "dataset": "paper"}
    loc = {name: {"a": a, "b": b, "noise": 0.0, "noise_kind": "none"} for name, (a, b) in PAPER_CLAIMS.items()}
    t11 = {}
    for kind, column in (("voc", "VOC-2007"), ("caltech", "Caltech-101")):
        cl = {s: {"a": _paper_pair(pair, column)[0], "b": _paper_pair(pair, column)[1], "noise": 0.0,
                  "noise_kind": "none"}
              for s, (_, pair) in CLAIMS11.items() if pair is not None}
        t11[kind] = {"kind": kind, "label": kind, "column": column, "claims": cl,
                     "rows": {"D": {"stack": {"splits": [0.0, 0.0, 0.0]}, "average": {"splits": [0.0, 0.0, 0.0]}}}}
    image, box = paper.TABLE12["VGG D&E, image only"], paper.TABLE12["VGG D&E, image and bounding box"]
    return {
        "table2": arch_run.table2(get_profile("quick")),
        "table3": {"rows": {r: row(v[0]) for r, v in p3.items()}, "noise": noise, "pairs": pairs3,
                   "shallow": {"B/256": row(30.0), "B-5x5/256": row(30.0 + paper.SHALLOW_TOP1_GAP)}},
        "table4": {"rows": {r: {"multi": row(v[0], (224, 256, 288)), "single": row(p3[r][0]), "paired_se": 0.0}
                            for r, v in p4.items()}, "noise": noise, "pairs": pairs4},
        "table5": {"rows": t5, "noise": noise, "provenance": prov},
        "table6": {"rows": {n: fusion(n, v[0]) for n, v in paper.TABLE6.items()}, "noise": noise,
                   "provenance": prov,
                   "singles": {r: row(p4[r][0]) for r in (*paper.SUBMISSION_NETS, "E/256-512")}},
        "table7": {"provenance": prov},
        "table8": {"claims": {k: v for k, v in loc.items() if "fc6–fc7" in k}},
        "table9": {"claims": {k: v for k, v in loc.items() if "fc6–fc7" not in k},
                   "rows": {n: {"top5": v[0]} for n, v in paper.TABLE9.items()}},
        "table10": {"provenance": prov},
        "table11": {"targets": t11},
        "table12": {"claims": {"adding the box helps": {"a": box, "b": image, "noise": 0.0, "noise_kind": "none"}}},
    }


def test_the_papers_own_numbers_make_every_claim_hold():
    found = all_claims(paper_as_ours())
    assert len(found) >= 30
    assert len({c.id for c in found}) == len(found), "claim ids are unique"
    wrong = [(c.id, c.verdict) for c in found if c.paper is not None and c.verdict != "holds"]
    assert not wrong, f"claims not encoded as the paper states them: {wrong}"
    assert all(c.paper_verdict in (None, "holds") for c in found)
    sections = {c.section for c in found}
    assert {"§2.3", "§4.1", "§4.2", "§4.3", "§4.4", "§4.5", "App. A", "App. B"} <= sections


def test_stored_evidence_round_trips_and_reads_the_shape_records_store_today():
    """Drivers store a claim's evidence (the half width of its 95 % interval and its kind) with
    ``to_record``; a report reads it back with ``from_record``, also from records made before the
    noise model, which store two standard errors: read with the t quantile of their kind."""
    evidence = claims.Evidence(52.9, 56.6, 1.38, "paired per image, 95% interval")
    assert claims.Evidence.from_record(json.loads(json.dumps(evidence.to_record())), "unused") == evidence
    today = {"a": 84.2, "b": 79.8, "noise": 2.41, "strict": True}
    assert claims.Evidence.from_record(today, "paired over splits", dof=2) == \
        claims.Evidence(84.2, 79.8, round(2.41 / 2 * 4.3027, 2), "paired over splits, 95% interval")
    assert claims.Evidence.from_record({"a": 1.0, "b": 2.0, "noise": 1.0}, "paired per image").noise == 0.98


def test_the_drivers_store_one_evidence_shape():
    """Localisation's per-image hits and transfer's scores go into the same stored shape: the
    half width of the gap's 95 % interval (t at the splits' degrees of freedom for Caltech)."""
    import torch

    from vgglib.parts.localisation import run as loc_run
    from vgglib.parts.transfer import run as transfer_run

    hit_a = torch.tensor([True] * 9 + [False])
    hit_b = torch.tensor([True] * 7 + [False] * 3)
    stored = loc_run._evidence(hit_a, hit_b)
    width = round(1.96 * noise_model.paired_se(hit_a, hit_b), 2)
    assert claims.Evidence.from_record(stored, "unused") == \
        claims.Evidence(10.0, 30.0, width, "paired per image, 95% interval")
    stored = transfer_run._evidence(84.2, 79.8, 1.2, "caltech", dof=2)
    assert claims.Evidence.from_record(stored, "unused") == \
        claims.Evidence(84.2, 79.8, round(1.2 * 4.3027, 2), "paired over splits, 95% interval, t at 2 dof")


def test_every_part_judges_its_claims_on_the_stored_evidence():
    """The committed records' stored evidence (the 95 % interval's half width and how it was
    measured) is what each claim is judged on, and every claim, rebuilt from its own evidence,
    is itself."""
    committed = ResultSet(ROOT / "results" / "quick")
    found = {c.id: c for c in all_claims(committed)}
    for table in ("table8", "table9"):
        for name, stored in committed[table]["claims"].items():
            c = found[f"{table}/{name}"]
            assert c.evidence == claims.Evidence(stored["a"], stored["b"], stored["noise"],
                                                 "paired per image, 95% interval")
    fused = found["table9/fusing two nets beats the better one"]
    assert found["table10/fusion-best"].noise == fused.noise
    for name, t in committed["table11"]["targets"].items():
        kind = "paired over splits, 95% interval, t at 2 dof" if t["kind"] == "caltech" else \
            "paired bootstrap, 95% interval"                      # Caltech: 3 splits
        for statement, stored in t["claims"].items():
            c = found[f"table11/{name}/{statement}"]
            assert (c.noise, c.noise_kind) == (stored["noise"], kind)
            assert c.verdict == claims.verdict(CLAIMS11[statement][0], stored["a"], stored["b"], c.noise,
                                               higher_is_better=True)
    for c in found.values():
        again = claims.Claim.from_evidence(c.id, c.section, c.statement, c.direction,
                                           claims.Evidence.from_record(c.evidence.to_record(), ""), c.paper,
                                           unit=c.unit, higher_is_better=c.higher_is_better, margin=c.margin,
                                           relative=c.relative, weak=c.weak)
        assert again == c, c.id
    assert {c.table for c in found.values()} >= {"table3", "table4", "table5", "table6", "table7", "jitter-canvases",
                                                  "table8", "table9", "table10", "table11", "table12", "training"}


def test_the_jittering_diagnosis_shows_its_table_and_its_claim():
    from html import escape

    from vgglib.parts.page import diagnosis

    committed = ResultSet(ROOT / "results" / "quick")
    table, verdicts = diagnosis(committed, "jitter-canvases", cls_measure.jitter_canvases_frame,
                                cls_measure.JITTER_CANVASES_CAPTION, claims=cls_claims.jitter_canvases_claims)
    assert escape(cls_measure.JITTER_CANVASES_CAPTION) in table.data
    (claim,) = cls_claims.jitter_canvases_claims(committed["jitter-canvases"])
    assert escape(claim.statement) in verdicts.data and claim.verdict in verdicts.data


def test_every_page_tip_names_the_command_and_the_records_it_reads():
    from vgglib.parts.page import tip

    assert tip("table3", "smoke").endswith("`python -m vgglib reproduce table3 --profile smoke` (or "
                                           '`vgglib.reproduce.reproduce("table3", "smoke")` from Python).')
    assert "it reads the records of Table 5 and Table 6, computing them first" in tip("table7", "quick")
    assert tip("table3", "smoke").startswith("As built, this page renders stored records; opened in `make lab`, "
                                             "its `compute` parameter runs the experiment instead.")
    assert "it reads the record of Table 9, computing it first if it is missing." in tip("table10", "quick")


def test_reversed_numbers_make_the_directional_claims_fail():
    rows = {r: row(v[0]) for r, v in paper.TABLE4.items()}
    spread = {"seeds": {"0": {"single": 1.0, "multi": 1.0}, "1": {"single": 1.5, "multi": 1.5}}}
    result = {"rows": {r: {"multi": row(v["top1"] + 2), "single": v, "paired_se": 0.25} for r, v in rows.items()},
              "noise": {"D/256": spread, "D/256-512": spread}, "provenance": {"test_images": 10_000}}
    frame = cls_report.table4_frame(result)
    assert set(frame["multi-scale beats single?"]) == {"does not hold"}     # 2 points worse, noise 0.5
    assert frame["top-1 paper"].tolist() == [v[0] for v in paper.TABLE4.values()]


def test_committed_results_render_exactly_as_committed():
    """A report change that moves a number must fail here until the exports are regenerated
    (``make export``) and the change is reviewed in the diff."""
    for directory in sorted((ROOT / "results").iterdir()):
        results = ResultSet(directory)
        for stem, frame in all_frames(results).items():
            committed = pd.read_csv(directory / "csv" / f"{stem}.csv", keep_default_na=False)
            fresh = pd.read_csv(pd.io.common.StringIO(frame.to_csv(index=frame.index.name is not None)),
                                keep_default_na=False)
            pd.testing.assert_frame_equal(fresh, committed, obj=f"{directory.name}/{stem}")
        fresh_claims = claims.frame(all_claims(results))["verdict"].tolist()
        assert fresh_claims == pd.read_csv(directory / "claims.csv")["verdict"].tolist()


def test_provenance_line_names_profile_hardware_and_training_time():
    prov = {"profile": "quick", "hardware": "2 cores", "commit": "abc", "date": "today", "wall_s": 90.0}
    assert provenance_line(prov).endswith("in 1.5 minutes.")
    line = provenance_line({**prov, "nets": 3, "nets_train_s": 600.0})
    assert "its 3 nets took 10.0 minutes to train" in line
    assert "its 1 net took 1.0 minutes" in provenance_line({**prov, "nets": 1, "nets_train_s": 60.0})
    assert "nets" not in provenance_line({**prov, "nets": 0, "nets_train_s": 0})
    assert "minutes" not in provenance_line({k: v for k, v in prov.items() if k != "wall_s"})


def test_provenance_line_of_a_page_that_reuses_other_tables():
    prov = {"profile": "quick", "hardware": "2 cores", "commit": "abc", "date": "today", "wall_s": 0.0}
    line = provenance_line(prov, {"table5": {**prov, "wall_s": 120.0}, "table6": {**prov, "wall_s": 60.0}})
    assert "reuses the results of Table 5 and Table 6" in line
    assert "in 0.0 minutes" not in line and "in 2.0 minutes" in line and "in 1.0 minutes" in line
    committed = ResultSet(ROOT / "results" / "quick")
    for name, used in (("table7", ["table5", "table6"]), ("table10", ["table9"])):
        assert list(committed[name]["uses"]) == used
        assert committed[name]["uses"][used[0]] == committed[used[0]]["provenance"]


def test_table2_counts_are_computed():
    from vgglib.parts.architecture.report import table2

    t2 = table2()
    assert t2.loc["D", "ours (exact)"] == 138_357_544
    assert (t2.loc[["A", "B", "C", "D", "E"], "agrees"] == "yes").all()
    assert t2.loc["D", "quick analogue"] < t2.loc["D", "ours (exact)"] / 50


def test_init_scales_keep_the_gain():
    from vgglib.parts.training.report import init_scales

    t = init_scales("quick")
    full = t["fan-in (paper)"] * t["σ (paper)"] ** 2
    assert (abs(t["gain fan-in·σ² (both)"] - full) < 1e-9).all()


def test_each_claim_uses_the_noise_that_fits_it():
    """The same nets on the same images: their paired standard error alone.  Different nets: the
    paired standard error the record stores for the pair (or, where it stores none, the unpaired
    bound on its test images) with the seed variance pooled over every seeded row, tested as
    the claim's nets are (here multi-scale: 0.25 points², 4 dof)."""
    noise = {"D/256": {"seeds": {s: {"single": 9.0 + s / 10, "multi": 8.0 + s / 2} for s in range(3)}},
             "D/256-512": {"seeds": {s: {"single": 9.0 + s, "multi": 8.0 + s / 2} for s in range(3)}}}
    rows = {r: {"multi": row(v[0], (224, 256, 288)), "single": row(paper.TABLE3[r][0]), "paired": 0.3}
            for r, v in paper.TABLE4.items()}
    record = {"rows": rows, "noise": noise, "pairs": {"D/256 vs C/256": {"multi": 0.2}},
              "provenance": {"test_images": 10_000}}
    found = {c.id: c for c in cls_claims.table4_claims(record)}
    same = found["table4/multi-scale/D/256"]
    assert (same.noise, same.noise_kind) == (round(1.96 * 0.15, 2), "paired per image, 95% interval")
    paired = noise_model.between_nets(0.2, 0.25, 4)
    assert found["table4/depth/D-C/256"].noise == round(paired.half_width, 2)
    assert found["table4/depth/D-C/256"].noise_kind.startswith("paired per image + seed variance (4 dof)")
    a, b = paper.TABLE4["D/384"][0], paper.TABLE4["C/384"][0]
    unpaired = noise_model.between_nets(noise_model.unpaired_se(a, b, 10_000), 0.25, 4)
    assert found["table4/depth/D-C/384"].noise == round(unpaired.half_width, 2)
    assert "unpaired bound" in found["table4/depth/D-C/384"].noise_kind


def test_a_page_whose_records_are_missing_becomes_a_stub_naming_the_command(tmp_path):
    from vgglib.book import missing_records, stub

    (tmp_path / "table5.json").write_text("{}")
    assert missing_records("table7_state_of_the_art", tmp_path) == ["table6", "table7"]
    assert missing_records("table4_multi_scale", tmp_path) == ["table4"]       # the diagnosis is optional
    assert missing_records("architecture", tmp_path) == []                     # computed from the code
    (tmp_path / "_nb").mkdir()
    (tmp_path / "_nb" / "table7_state_of_the_art.ipynb").write_text("stale")
    page = stub("table7_state_of_the_art", ["table6", "table7"], "smoke", tmp_path / "_nb")
    assert "make reproduce-table6 PROFILE=smoke" in page.read_text()
    assert not (tmp_path / "_nb" / "table7_state_of_the_art.ipynb").exists()


def test_a_record_whose_nets_were_retrained_for_a_later_record_is_marked_stale(tmp_path):
    """Table 4 retrains D/256 after Table 3 was computed: Table 3's page says so in bold, and
    Table 7, which only reuses Table 3 here, inherits it; Table 4 and a later record on another
    data set (the same row name on other images) are not stale."""
    from vgglib.files import write_json
    from vgglib.results import retrained_since

    def record(name, date, runs, dataset="fm", uses=None):
        prov = {"profile": "quick", "hardware": "2 cores", "commit": "abc", "date": date, "dataset": dataset,
                "runs": runs}
        write_json(tmp_path / f"{name}.json", {"provenance": prov, **({"uses": uses} if uses else {})})

    record("table3", "2026-11-30 09:00 UTC", {"A/256": "A_256-quick-aaa", "D/256": "D_256-quick-old"})
    record("table4", "2026-11-30 10:00 UTC", {"D/256": "D_256-quick-new", "C/256": "C_256-quick-ccc"})
    record("canvases", "2026-11-30 11:00 UTC", {"D/256": "D_256-quick-other"}, dataset="canvases")
    record("table7", "2026-11-30 12:00 UTC", {}, uses={"table3": {}})
    results = ResultSet(tmp_path)
    assert retrained_since("table3", results) == ["D/256 retrained for Table 4 on 2026-11-30 10:00 UTC"]
    assert retrained_since("table4", results) == [] and retrained_since("canvases", results) == []
    assert retrained_since("table7", results) == ["Table 3's D/256 retrained for Table 4 on 2026-11-30 10:00 UTC"]
    line = provenance_line(results["table3"]["provenance"], None, retrained_since("table3", results), "table3")
    assert "**Stale: D/256 retrained for Table 4" in line and "`make reproduce-table3`" in line
    assert "Stale" not in provenance_line(results["table4"]["provenance"], None, [], "table4")


def test_one_reproduce_all_leaves_no_record_stale(smoke_results, smoke_env):
    """Every record of a study names the runs of its nets (which exist in the store), and after
    one ``reproduce all`` every table agrees on them: no page is marked stale."""
    from vgglib.results import retrained_since

    results = ResultSet(smoke_results)
    runs = {n: r for name in results.names() for n, r in results[name]["provenance"].get("runs", {}).items()}
    assert {"A/256", "D/256", "D/256#1", "D/256-512#2"} <= set(runs)
    assert all((smoke_env["runs"] / r / "done.json").exists() for r in runs.values())
    assert all(retrained_since(name, results) == [] for name in results.names())


def test_the_grown_fusion_shows_which_member_pulls_the_average_down():
    """Two nets wrong on different images fuse to no error; a third, wrong everywhere, takes
    the fusion of all three to half wrong: the measurement, its sentence and its figure say so."""
    import torch

    from vgglib.parts.classification import figures as cls_figures
    from vgglib.parts.classification.run import grown_fusion

    labels = torch.tensor([0, 0, 1, 1])
    posts = {"a": torch.tensor([[.9, .1], [.9, .1], [.1, .9], [.6, .4]]),
             "b": torch.tensor([[.9, .1], [.9, .1], [.6, .4], [.1, .9]]),
             "c": torch.tensor([[0., 1.], [0., 1.], [1., 0.], [1., 0.]])}
    singles = {"a": {"top1": 25.0}, "b": {"top1": 25.0}, "c": {"top1": 100.0}}
    grown = grown_fusion(labels, posts, singles)
    assert [g["fused"] for g in grown] == [25.0, 0.0, 50.0]
    record = {"growing": grown}
    assert cls_report.growing_sentence(record) == (
        "Fused best first, the submission's nets reach their lowest top-1 error, 0.00%, with the 2 best "
        "(a alone: 25.00%); adding c (100.00% alone) takes the fusion of all 3 to 50.00%. Averaging "
        "posteriors with nets that are much worse alone pulls the fusion towards them.")
    assert list(cls_report.growing_frame(record)["error of the fusion"]) == [25.0, 0.0, 50.0]
    (ax,) = cls_figures.table6_growing(record).axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["+ a", "+ b", "+ c"]
    assert list(ax.lines[0].get_ydata()) == [25.0, 0.0, 50.0]
    assert cls_report.growing_sentence({"growing": grown[:2]}).endswith("every net added helps.")
    assert "0.00%, with the best net alone (b alone: 0.00%); adding a (25.00% alone)" in cls_report.growing_sentence(
        {"growing": [{"net": "b", "single": 0.0, "fused": 0.0}, {"net": "a", "single": 25.0, "fused": 5.0}]})


def test_localisation_sentences_split_the_error_into_boxes_and_classes():
    """Dense against the central crop: the error given the true class is the boxes' own; the
    rest is the images whose true class is not among the top five.  Fusion: each member's."""
    from vgglib.parts.localisation import report as loc_report

    def row(top5: float, gt: float, boxes: float) -> dict:
        return {"top5": top5, "gt_class": gt, "boxes_per_image": boxes}

    r9 = {"rows": {"256/256": row(52.7, 48.5, 4.0), "384/352,384": row(27.65, 16.6, 61.0),
                   "384/384": row(26.95, 15.7, 36.0), "fusion 256/256 + 384/352,384": row(27.9, 16.95, 65.0)},
          "centre_crop_error": 23.9, "classification": {"top1": 60.0, "top5": 16.05}}
    assert loc_report.dense_sentence(r9) == (
        "Given the true class, as the central crop is, the dense boxes at S = 384 err on 15.70% of the test "
        "images against the central crop's 23.90%: the dense boxes are the better ones. With the top-5 "
        "classes of the classification system instead they err on 26.95%: the 11.25 points between are "
        "images boxed right for their true class when it is given, but whose true class is not among the five "
        "(the system's top-5 classification error is 16.05%).")
    r9["rows"]["384/384"]["gt_class"] = 30.0
    assert "the dense boxes themselves are no better" in loc_report.dense_sentence(r9)
    assert loc_report.fusion_sentence(r9) == (
        "The fusion pools the boxes of its members before the merge (256/256: 52.70% top-5, 48.50% given the "
        "true class, 4 boxes per image; 384/352,384: 27.65% top-5, 16.60% given the true class, 61 boxes per "
        "image): the weaker member errs 25.05 points more than the stronger alone, and the fusion errs on "
        "27.90% (top-5) and 16.95% given the true class.")


def test_transfer_measurements_name_the_source_errors_and_each_scale():
    """Beside E ≥ D: each net's error on the task it learned; beside the aggregation claims:
    the fused descriptor at each scale alone, then averaged and stacked (from the record)."""
    from vgglib.parts.transfer import report as transfer_report

    record = {"nets": {"D": "D/256-512", "E": "E/256-512"}, "source_top1": {"D": 8.1, "E": 8.6},
              "targets": {"voc": {"kind": "voc", "label": "VOC-style",
                                  "per_scale": [{"Q_px": 37, "score": 50.0}, {"Q_px": 55, "score": 58.5}],
                                  "rows": {"D&E": {"average": {"mAP": 55.0}, "stack": {"mAP": 60.0}}}}}}
    assert transfer_report.source_sentence(record) == (
        "On the task the features were learned on, D/256-512 errs on 8.10% and E/256-512 on 8.60% of the test "
        "images (top-1, multi-scale dense, as Table 4): E is the worse of the two before any transfer.")
    frame = transfer_report.per_scale_frame(record)
    assert list(frame["descriptor"]) == ["Q = 37 px alone", "Q = 55 px alone", "all Q averaged", "all Q stacked"]
    assert list(frame["score"]) == [50.0, 58.5, 55.0, 60.0]


def test_a_table_computed_in_pieces_records_the_time_of_every_piece(tmp_path, monkeypatch):
    """A reproduce stopped mid-table books its time in the run store's ledger; the run that
    completes the table adds it to the record's wall time and counts the pieces; a SIGTERM
    to ``python -m vgglib reproduce`` unwinds the same way."""
    import signal
    import time

    from vgglib import data, reproduce
    from vgglib.__main__ import _stopped
    from vgglib.parts import Table

    calls = []

    def compute(study):
        calls.append(study)
        time.sleep(0.3)
        if len(calls) == 1:
            _stopped(signal.SIGTERM, None)      # what the CLI's handler raises on SIGTERM
        return {"provenance": {"profile": "smoke", "wall_s": 0.1}}

    monkeypatch.setattr(reproduce, "table", lambda name: Table(name, "classification", "t", "p", compute))
    monkeypatch.setattr(data, "profile_splits", lambda p, root: data.synthetic())
    runs, out = tmp_path / "runs", tmp_path / "results"
    with pytest.raises(SystemExit) as stop:
        reproduce.reproduce("fake", "smoke", results_root=out, runs=runs, progress=False)
    assert stop.value.code == 128 + signal.SIGTERM
    ledger = runs / reproduce.LEDGER
    (seconds, pieces), = json.loads(ledger.read_text()).values()
    assert seconds >= 0.3 and pieces == 1
    prov = reproduce.reproduce("fake", "smoke", results_root=out, runs=runs, progress=False)["provenance"]
    assert prov["pieces"] == 2 and prov["wall_s"] == round(0.1 + seconds, 1)
    assert json.loads(ledger.read_text()) == {}
    assert "over 2 runs of the command" in provenance_line({**prov, "hardware": "h", "commit": "c", "date": "d"})
    again = reproduce.reproduce("fake", "smoke", results_root=out, runs=runs, progress=False)["provenance"]
    assert "pieces" not in again and again["wall_s"] == 0.1


def test_the_off_scale_measurement_compares_each_added_view_with_the_single_scale():
    """Beside 'multi-scale beats one scale': each net's error at its three Q, the better added
    view against the single test scale's, and the average against the single scale."""
    from vgglib import evaluate
    from vgglib.study import scale_of

    rows = {}
    for r, v in paper.TABLE4.items():
        low, mid, high = evaluate.q_set(scale_of(r))
        single = evaluate.q_single(scale_of(r))
        rows[r] = {"multi": row(v[0], (low, mid, high)), "single": {**row(paper.TABLE3[r][0]), "Q": [single]},
                   "paired": 0.1, "per_q": {str(low): 12.0, str(mid): 8.0, str(high): 10.5}}
    rows["B/256"]["multi"]["top1"], rows["B/256"]["single"]["top1"] = 8.5, 8.0
    noise = {k: {"seeds": {s: {"single": 8.0, "multi": 8.0} for s in range(3)}} for k in ("D/256", "D/256-512")}
    frame = cls_measure.off_scale_frame({"rows": rows, "noise": noise, "provenance": {"test_images": 10_000}})
    b = frame.set_index("config").loc["B"]
    assert (b["top-1 at lowest Q"], b["top-1 at single Q"], b["top-1 at highest Q"]) == (12.0, 8.0, 10.5)
    assert b["better added view − single Q"] == 2.5 and b["multi − single"] == 0.5
    assert b["multi-scale beats single?"] == "does not hold"
    sentence = cls_measure.off_scale_sentence({"rows": rows, "noise": noise, "provenance": {"test_images": 10_000}})
    assert "trained at S = 256, the better of the two views added errs +2.50 to +2.50 points" in sentence
    assert "The claim fails for B/256." in sentence


def test_the_fit_diagnosis_says_whether_the_better_net_fits_better_and_tests_better():
    fit = {"train_images": 5000, "rows": {
        "C/256": {"Q": 256, "Q_px": 37, "train_top1": 3.0, "val_top1": 8.3, "test_top1": 8.2},
        "D/256": {"Q": 256, "Q_px": 37, "train_top1": 3.1, "val_top1": 8.3, "test_top1": 8.5},
        "E/256": {"Q": 256, "Q_px": 37, "train_top1": 2.0, "val_top1": 8.0, "test_top1": 8.0},
        "A/256": {"Q": 256, "Q_px": 37, "train_top1": 4.0, "val_top1": 9.0, "test_top1": 9.0},
        "A-LRN/256": {"Q": 256, "Q_px": 37, "train_top1": 3.5, "val_top1": 8.9, "test_top1": 8.8}}}
    sentence = cls_measure.fit_sentence(fit)
    assert "D/256 fits them no better than C/256 (3.10 vs 3.00 %) and errs no less on test (8.50 vs 8.20 %)" in sentence
    assert "E/256 fits them better than D/256 (2.00 vs 3.10 %) and errs less on test" in sentence
    assert sentence.startswith("On 5,000 of the images they were trained on: A/256 fits them no better than "
                               "A-LRN/256 (4.00 vs 3.50 %)")
    assert "B/256" not in sentence                                       # no row, no comparison
    frame = cls_measure.fit_frame(fit)
    assert list(frame["config"]) == ["A-LRN", "A", "C", "D", "E"]
    assert list(frame["test − training"]) == [5.3, 5.0, 5.2, 5.4, 6.0]


def test_the_fit_diagnosis_measures_the_tables_nets_on_their_own_training_images(smoke_results, smoke_env):
    """fit evaluates Table 3's nets (the same runs) on a sample of their training split: its
    test errors are Table 3's single-scale ones, its validation errors the runs' own."""
    from vgglib.parts.classification.rows import FIT_IMAGES, FIT_ROWS
    from vgglib.parts.page import diagnosis

    results = ResultSet(smoke_results)
    fit, t3 = results["fit"], results["table3"]
    assert set(fit["rows"]) == set(FIT_ROWS)
    assert list(cls_measure.fit_frame(fit)["train S"]) == ["256"] * 6 + ["384"] * 3
    assert fit["train_images"] == min(FIT_IMAGES, get_profile("smoke").train_limit)
    for r in FIT_ROWS:
        run = fit["provenance"]["runs"][r]
        assert run == t3["provenance"]["runs"][r]
        assert fit["rows"][r]["test_top1"] == t3["rows"][r]["top1"]
        done = json.loads((smoke_env["runs"] / run / "done.json").read_text())
        assert fit["rows"][r]["val_top1"] == round(done["best_val_top1_err"], 2)
        assert 0.0 <= fit["rows"][r]["train_top1"] <= 100.0
    shown = diagnosis(results, "fit", cls_measure.fit_frame, cls_measure.FIT_CAPTION, sentence=cls_measure.fit_sentence)
    assert shown[0].data == cls_measure.fit_sentence(fit) and cls_measure.FIT_CAPTION in shown[1].data
    (stub,) = diagnosis(ResultSet(smoke_env["results"] / "none"), "fit", cls_measure.fit_frame, "",
                        sentence=cls_measure.fit_sentence)
    assert "`python -m vgglib reproduce fit`" in stub.data
