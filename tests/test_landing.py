"""The book's first screen, from the committed quick records: what was measured, the tally of the
experimental claims apart from the arithmetic ones, and how long reproducing takes, each number
read from a record."""
import json
import shutil

from conftest import ROOT

from vgglib.claims import HOLDS, tally
from vgglib.parts import all_claims, arithmetic, landing
from vgglib.results import ResultSet

QUICK = ROOT / "results" / "quick"


def test_arithmetic_claims_are_the_counts_computed_from_code():
    claims = all_claims(ResultSet(QUICK))
    counted = [c for c in claims if arithmetic(c)]
    assert counted and {c.table for c in counted} == {"table2"}
    assert all(c.noise_kind == "exact count" for c in counted)
    n = landing.counts(claims)
    experiments = [c.verdict for c in claims if not arithmetic(c)]
    assert (n["claims"], n["holds"]) == (len(experiments), tally(experiments)[HOLDS])
    assert f"{n['holds']} of {n['claims']} experimental claims hold" in landing.tally_sentence(claims)


def test_reproduction_times_come_from_the_records_and_the_end_to_end_run(tmp_path):
    records = ResultSet(QUICK)
    e2e = json.loads((QUICK / "e2e.json").read_text())
    total = sum(records[n]["provenance"]["wall_s"] for n in records.names()
                if "wall_s" in records[n].get("provenance", {}))
    sentence = landing.time_sentence(records)
    assert f"Table 4 in {landing.duration(e2e['stages_s']['reproduce'])}" in sentence
    assert f"every table in {landing.duration(total)} on 2 CPU cores" in sentence
    assert sentence.endswith("on one GPU: not measured yet.")
    # a GPU's times, where results/<profile>/gpu.json gives them
    copy = tmp_path / "quick"
    shutil.copytree(QUICK, copy)
    quick = {"table4_projected_min": 30.0, "all_records_projected_min": 40.0}
    (copy / "gpu.json").write_text(json.dumps({"device": "1× NVIDIA H100", "quick": quick}))
    gpu = "on 1× NVIDIA H100: Table 4 in 30\u00a0min (projected) and every table in 40\u00a0min"
    assert gpu in landing.time_sentence(ResultSet(copy))
    (copy / "e2e.json").unlink()                      # Table 4 alone is only timed from an empty run store
    assert "Table 4 in" not in landing.cpu_line(ResultSet(copy))


def test_the_total_names_every_cpu_its_records_came_from(tmp_path):
    """Records regenerated in pieces may come from two machines: the total says which computed
    how many, most first, instead of naming Table 4's machine for all of them."""
    def record(name: str, hardware: str) -> None:
        prov = {"commit": "abc1234", "wall_s": 600.0, "hardware": hardware}
        (tmp_path / f"{name}.json").write_text(json.dumps({"provenance": prov}))

    for name in ("table3", "table4", "table5"):
        record(name, "AMD EPYC, 2 cores, CPU only")
    assert landing.cpu_line(ResultSet(tmp_path)).endswith("on 2 CPU cores (AMD EPYC)")
    record("table8", "Intel(R) Xeon(R) Processor, 2 cores, AVX512, bf16 in hardware, CPU only")
    assert landing.machines(ResultSet(tmp_path)) == {"AMD EPYC": ["table3", "table4", "table5"],
                                                    "Intel(R) Xeon(R) Processor": ["table8"]}
    assert landing.cpu_line(ResultSet(tmp_path)).endswith(
        "on 2 CPU cores (AMD EPYC for 3 of 4 records, Intel(R) Xeon(R) Processor for 1 of 4 records)")


def test_the_headline_names_the_data_set_the_scale_and_the_claims_page():
    records = ResultSet(QUICK)
    html = landing.headline(records, all_claims(records), "quick").data
    assert "Fashion-MNIST" in html and "1/4 of the paper's width" in html and "<code>quick</code>" in html
    assert 'href="_nb/claims.html"' in html and landing.time_sentence(records) in html
