"""Paper §4's claims (Tables 3–7, and the jittering diagnosis), each judged on evidence read from
a record: the frames, the figures and the Claims page all take their verdicts from here, so a
table's verdict column and the Claims page can never disagree."""
from __future__ import annotations

from ... import paper
from ...claims import Claim, Evidence
from ...noise import PAIRED, paired, seed_noise
from ...results import ResultSet
from .rows import JITTERED

#: A ≈ B within this many points of top-1 error: the paper's "saturates" (E trails D by up to 0.3).
SATURATION_MARGIN = 0.5
JITTER_WEAK = ("Fashion-MNIST's items are all 28 px: a larger S only up-samples them, so scale jittering has no "
               "range of object sizes to learn (measured on canvases where the size varies: jitter-canvases)")
#: Table 5's evaluation methods, in the paper's order.
METHODS5 = ("dense", "multi-crop", "dense+multi-crop")


def paper_row(row: str) -> tuple[str, str]:
    """A record's row as the paper writes it, its config and training scale: ``D/256-512`` →
    (``D``, ``256;512``)."""
    config, scale = row.split("/")
    return config, scale.replace("-", ";")


def jitter_weak(result: dict) -> str:
    """Why the jittering claims are a weak test of a record: JITTER_WEAK on Fashion-MNIST (and
    on records that do not name their data set), nothing on ImageNet or a user's own images."""
    dataset = result.get("provenance", {}).get("dataset", "fashion-mnist")
    return JITTER_WEAK if dataset.startswith("fashion-mnist") else ""


def table3_claims(result: dict) -> list[Claim]:
    """Table 3 and §4.1: LRN, depth, 3×3 against 1×1, saturation, jittering, the shallow net."""
    r, p = {k: v["top1"] for k, v in result["rows"].items()}, {k: v[0] for k, v in paper.TABLE3.items()}

    def pair(a: str, b: str, key: str, statement: str, direction: str = "better", **kw) -> Claim:
        return Claim.from_evidence(f"table3/{key}", "§4.1", statement, direction,
                                   Evidence(r[a], r[b], *seed_noise(result, a, b)), (p[a], p[b]), **kw)
    out = [pair("A/256", "A-LRN/256", "lrn", "LRN does not improve A (A no worse than A-LRN)", "no worse"),
           pair("B/256", "A/256", "depth-B-A", "deeper is better: B beats A"),
           pair("C/256", "B/256", "depth-C-B", "deeper is better: C beats B"),
           pair("D/256", "C/256", "3x3-256", "3×3 beats 1×1 convs: D beats C (S = 256)"),
           pair("D/384", "C/384", "3x3-384", "3×3 beats 1×1 convs: D beats C (S = 384)"),
           pair("E/256", "D/256", "saturation", "depth saturates at 19 layers: E ≈ D (S = 256)", "equal",
                margin=SATURATION_MARGIN)]
    out += [pair(f"{c}/256-512", f"{c}/384", f"jitter-{c}", f"scale jittering beats a fixed S = 384 ({c})",
                 weak=jitter_weak(result)) for c in "CDE"]
    s = result["shallow"]
    out.append(Claim.from_evidence(
        "table3/shallow", "§4.1", "B beats its shallow 5×5 variant (centre crop; paper: the shallow net's top-1 "
        f"is {paper.SHALLOW_TOP1_GAP:.0f} points higher)", "better",
        Evidence(s["B/256"]["top1"], s["B-5x5/256"]["top1"], *seed_noise(result, "B/256")), None))
    return out


def table4_claims(result: dict) -> list[Claim]:
    """Table 4: multi-scale beats single scale, jittering beats fixed S, deeper is better."""
    r = result["rows"]
    multi = {k: v["multi"]["top1"] for k, v in r.items()}
    p4, p3 = {k: v[0] for k, v in paper.TABLE4.items()}, {k: v[0] for k, v in paper.TABLE3.items()}
    out = [Claim.from_evidence(f"table4/multi-scale/{row}", "§4.2", f"multi-scale test beats one scale ({row})",
                               "better", Evidence(v["multi"]["top1"], v["single"]["top1"], *paired(v)),
                               (p4[row], p3[row]))
           for row, v in r.items()]
    for c in "CDE":
        fixed = min((f"{c}/256", f"{c}/384"), key=multi.__getitem__)
        best_paper = min(p4[f"{c}/256"], p4[f"{c}/384"])
        noise = seed_noise(result, f"{c}/256-512", measure="multi")
        out.append(Claim.from_evidence(f"table4/jitter/{c}", "§4.2", f"scale jittering beats the better fixed S ({c})",
                                       "better", Evidence(multi[f"{c}/256-512"], multi[fixed], *noise),
                                       (p4[f"{c}/256-512"], best_paper), weak=jitter_weak(result)))
    for scale in ("256", "384", "256-512"):
        have = [c for c in "BCDE" if f"{c}/{scale}" in r]
        for shallow, deep in zip(have, have[1:]):
            a, b = f"{deep}/{scale}", f"{shallow}/{scale}"
            s = paper_row(a)[1]
            saturate = deep == "E"
            statement = (f"depth saturates: E ≈ D (S = {s})" if saturate else
                         f"deeper is better: {deep} beats {shallow} (S = {s})")
            out.append(Claim.from_evidence(
                f"table4/depth/{deep}-{shallow}/{scale}", "§4.2", statement, "equal" if saturate else "better",
                Evidence(multi[a], multi[b], *seed_noise(result, a, b, measure="multi")), (p4[a], p4[b]),
                margin=SATURATION_MARGIN if saturate else 0.0))
    return out


def table5_claims(result: dict) -> list[Claim]:
    """Table 5: multi-crop slightly beats dense, and the two combined beat either alone."""
    out = []
    for row, m in result["rows"].items():
        p = {k: v[0] for k, v in paper.TABLE5[row].items()}
        noise = m["paired"]
        out.append(Claim.from_evidence(
            f"table5/multi-crop/{row}", "§4.3", f"multi-crop beats dense ({row})", "better",
            Evidence(m["multi-crop"]["top1"], m["dense"]["top1"], noise["multi-crop vs dense"], PAIRED),
            (p["multi-crop"], p["dense"])))
        out.append(Claim.from_evidence(
            f"table5/combined/{row}", "§4.3", f"multi-crop & dense beat either alone ({row})", "better",
            Evidence(m["dense+multi-crop"]["top1"], min(m["dense"]["top1"], m["multi-crop"]["top1"]),
                     noise["combined vs best"], PAIRED),
            (p["multi-crop & dense"], min(p["dense"], p["multi-crop"]))))
    return out


def _best_single(result6: dict, fusion: str) -> tuple[float, float]:
    """(ours, paper): the best single net of a fusion, multi-scale dense top-1."""
    nets = paper.SUBMISSION_NETS if fusion.startswith("ILSVRC") else JITTERED
    return (min(result6["singles"][r]["top1"] for r in nets), min(paper.TABLE4[r][0] for r in nets))


def table6_claims(result: dict) -> list[Claim]:
    """Table 6: each fusion beats the best single net in it (multi-scale dense)."""
    out = []
    for i, (name, v) in enumerate(result["rows"].items()):
        ours_b, paper_b = _best_single(result, name)
        out.append(Claim.from_evidence(f"table6/fusion/{i}", "§4.4", f"the fusion beats its best single net: {name}",
                                       "better", Evidence(v["top1"], ours_b, *paired(v)),
                                       (paper.TABLE6[name][0], paper_b)))
    return out


def table7_claims(result5: dict, result6: dict) -> list[Claim]:
    """Table 7: the best fusion beats the best single net."""
    single = min(ms[m]["top1"] for ms in result5["rows"].values() for m in METHODS5)
    fusion = min(v["top1"] for v in result6["rows"].values())
    p = paper.TABLE7
    return [Claim.from_evidence("table7/fusion-vs-single", "§4.5", "the best fusion (2 nets) beats the best single net",
                                "better", Evidence(fusion, single, *seed_noise(result6, *JITTERED, measure="multi")),
                                (p["VGG (2 nets, multi-crop & dense eval.)"][0],
                                 p["VGG (1 net, multi-crop & dense eval.)"][0]))]


def jitter_canvases_claims(result: dict) -> list[Claim]:
    """The diagnosis: does jittering beat the better fixed S where the object's size varies?
    Its noise is the paired one of the two nets on the same canvases (one seed each: a lower
    bound on the noise of two different nets, said so in the claim)."""
    multi = {r: v["multi"]["top1"] for r, v in result["rows"].items()}
    p4 = {k: v[0] for k, v in paper.TABLE4.items()}
    evidence = Evidence(multi["D/256-512"], multi[result["fixed"]], result["paired"],
                        PAIRED + " (one seed per net: a lower bound)")
    return [Claim.from_evidence("jitter-canvases/D", "§4.2",
                                "scale jittering beats the better fixed S (D) on canvases whose object size varies",
                                "better", evidence, (p4["D/256-512"], min(p4["D/256"], p4["D/384"])),
                                weak="a diagnosis on our own canvases, not a table of the paper")]


def verdicts(claims: list[Claim]) -> dict[str, str]:
    """Each claim's verdict by its id, for the tables that show them beside their rows."""
    return {c.id: c.verdict for c in claims}


def claims(results: ResultSet) -> list[Claim]:
    """Every claim of Tables 3–7 whose results exist, and the jittering diagnosis."""
    out = []
    for name, fn in (("table3", table3_claims), ("table4", table4_claims), ("table5", table5_claims),
                     ("table6", table6_claims)):
        if name in results:
            out += fn(results[name])
    if "table7" in results:
        out += table7_claims(results["table5"], results["table6"])
    if "jitter-canvases" in results:
        out += jitter_canvases_claims(results["jitter-canvases"])
    return out
