"""Table builders: verdicts on the paper's claims, computed from results, never typed in."""
import pytest

from vgglib import paper, tables


def fake_row(top1: float, qs=(256,)) -> dict:
    return {"top1": top1, "top5": top1 / 10, "Q": list(qs), "Q_px": [round(q / 7) for q in qs]}


def test_verdict_and_noise():
    assert tables.verdict(10.0, 12.0) == "holds"
    assert tables.verdict(12.0, 10.0) == "does not hold"
    assert tables.verdict(10.0, 10.3, noise=0.5).startswith("within noise")
    assert tables.no_worse(10.4, 10.0, noise=0.5) == "holds"
    assert tables.no_worse(11.0, 10.0, noise=0.5) == "does not hold"
    assert tables.seed_noise({"noise": {"seeds": {"0": {"top1": 9.0}, "1": {"top1": 9.7}}}}) == pytest.approx(0.7)


def test_table4_frame_verdicts_follow_the_numbers():
    rows = {}
    for row in paper.TABLE4:
        jittered = "-" in row.split("/")[1]
        multi = 9.0 if jittered else 10.0
        rows[row] = {"multi": fake_row(multi, (256, 384, 512)), "single": fake_row(multi + 1),
                     "per_q": {"256": multi}}
    rows["E/256-512"]["multi"] = fake_row(11.0, (256, 384, 512))   # jittering does not help E
    frame = tables.table4_frame({"rows": rows}, noise=0.2)
    assert list(frame["config"]) == [r.split("/")[0] for r in paper.TABLE4]
    assert frame["top-1 paper"].tolist() == [v[0] for v in paper.TABLE4.values()]
    assert frame.iloc[-1]["jittering beats fixed S?"] == "does not hold"
    d_jit = frame[(frame.config == "D") & (frame["train S"] == "256;512")].iloc[0]
    assert d_jit["jittering beats fixed S?"] == "holds"
    assert frame.iloc[0]["multi-scale beats single?"] == "holds" and frame.iloc[0]["jittering beats fixed S?"] == "—"
    summary = tables.claims_summary(frame, ["multi-scale beats single?", "jittering beats fixed S?"])
    assert summary.startswith("Of the 13 comparisons") and "11 hold" in summary and "2 do not hold" in summary


def test_table3_claims_cover_lrn_depth_and_jitter():
    rows = {r: fake_row(v[0] / 3) for r, v in paper.TABLE3.items()}   # ours = paper / 3: same directions
    result = {"rows": rows, "noise": {"seeds": {"0": {"top1": 1.0}, "1": {"top1": 1.0}}}}
    frame = tables.table3_frame(result)
    verdicts = dict(zip(frame["config"] + "/" + frame["train S"], frame["holds?"]))
    assert verdicts["B/256"] == "holds" and verdicts["D/256;512"] == "holds"
    assert verdicts["A-LRN/256"] == "holds"        # the paper's own numbers: LRN does not help
    assert verdicts["E/256"] == "does not hold"    # paper: E/256 27.3 vs D/256 27.0, no noise allowed


def test_table2_counts_are_computed():
    t2 = tables.table2()
    assert t2.loc["D", "ours (exact)"] == 138_357_544
    assert (t2.loc[["A", "B", "C", "D", "E"], "agrees"] == "yes").all()
    assert t2.loc["D", "quick analogue"] < t2.loc["D", "ours (exact)"] / 50


def test_init_scales_keep_the_gain():
    t = tables.init_scales("quick")
    full = t["fan-in (paper)"] * t["σ (paper)"] ** 2
    assert (abs(t["gain fan-in·σ² (both)"] - full) < 1e-9).all()


def test_provenance_line_names_profile_hardware_and_training_time():
    from vgglib.results import provenance_line

    prov = {"profile": "quick", "hardware": "2 cores", "commit": "abc", "date": "today", "wall_s": 90.0}
    assert provenance_line(prov).endswith("in 1.5 minutes.")
    line = provenance_line({**prov, "nets": 3, "nets_train_s": 600.0})
    assert "its 3 nets took 10.0 minutes to train" in line
