"""Paper §4's claims (Tables 3–7, and the jittering diagnosis), each judged on evidence read from
a record: the frames, the figures and the Claims page all take their verdicts from here, so a
table's verdict column and the Claims page can never disagree."""
from __future__ import annotations

from ... import paper
from ...claims import EQUIVALENCE, Claim, Evidence
from ...noise import PAIRED, Noise, between, interval, paired, same_nets, stored_se, unpaired_se
from ...results import ResultSet
from .rows import JITTERED, SHALLOW_PAIR

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
    """Table 3 and §4.1: LRN, depth, 3×3 against 1×1, saturation, jittering, the shallow net;
    of a record of part of the table, the claims whose two rows it holds."""
    r, p = {k: v["top1"] for k, v in result["rows"].items()}, {k: v[0] for k, v in paper.TABLE3.items()}

    def pair(a: str, b: str, key: str, statement: str, direction: str = "better", **kw) -> Claim | None:
        if a not in r or b not in r:
            return None
        noise = between(result, a, b, r[a], r[b])
        return Claim.from_evidence(f"table3/{key}", "§4.1", statement, direction, Evidence(r[a], r[b], *noise),
                                   (p[a], p[b]), **kw)
    out = [pair("A/256", "A-LRN/256", "lrn", "LRN does not improve A (A no worse than A-LRN)", "no worse",
                margin=EQUIVALENCE, relative=True),
           pair("B/256", "A/256", "depth-B-A", "deeper is better: B beats A"),
           pair("C/256", "B/256", "depth-C-B", "deeper is better: C beats B"),
           pair("D/256", "C/256", "3x3-256", "3×3 beats 1×1 convs: D beats C (S = 256)"),
           pair("D/384", "C/384", "3x3-384", "3×3 beats 1×1 convs: D beats C (S = 384)"),
           pair("E/256", "D/256", "saturation", "depth saturates at 19 layers: E ≈ D (S = 256)", "equal",
                margin=EQUIVALENCE, relative=True)]
    out += [pair(f"{c}/256-512", f"{c}/384", f"jitter-{c}", f"scale jittering beats a fixed S = 384 ({c})",
                 weak=jitter_weak(result)) for c in "CDE"]
    out = [c for c in out if c is not None]
    s = {k: v["top1"] for k, v in result["shallow"].items()}
    a, b = SHALLOW_PAIR
    out.append(Claim.from_evidence(
        "table3/shallow", "§4.1", "B beats its shallow 5×5 variant (centre crop; paper: the shallow net's top-1 "
        f"is {paper.SHALLOW_TOP1_GAP:.0f} points higher)", "better",
        Evidence(s[a], s[b], *between(result, a, b, s[a], s[b], measure="centre")), None))
    return out


def table4_claims(result: dict) -> list[Claim]:
    """Table 4: multi-scale beats single scale, jittering beats fixed S, deeper is better; of a
    record of part of the table, the claims whose rows it holds."""
    r = result["rows"]
    multi = {k: v["multi"]["top1"] for k, v in r.items()}
    p4, p3 = {k: v[0] for k, v in paper.TABLE4.items()}, {k: v[0] for k, v in paper.TABLE3.items()}

    def different(a: str, b: str) -> Evidence:
        return Evidence(multi[a], multi[b], *between(result, a, b, multi[a], multi[b], measure="multi"))
    out = [Claim.from_evidence(f"table4/multi-scale/{row}", "§4.2", f"multi-scale test beats one scale ({row})",
                               "better", Evidence(v["multi"]["top1"], v["single"]["top1"], *paired(v)),
                               (p4[row], p3[row]))
           for row, v in r.items()]
    for c in "CDE":
        if not {f"{c}/256", f"{c}/384", f"{c}/256-512"} <= set(multi):
            continue
        fixed = min((f"{c}/256", f"{c}/384"), key=multi.__getitem__)
        best_paper = min(p4[f"{c}/256"], p4[f"{c}/384"])
        out.append(Claim.from_evidence(f"table4/jitter/{c}", "§4.2", f"scale jittering beats the better fixed S ({c})",
                                       "better", different(f"{c}/256-512", fixed),
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
                different(a, b), (p4[a], p4[b]), margin=EQUIVALENCE if saturate else 0.0, relative=saturate))
    return out


def table5_claims(result: dict) -> list[Claim]:
    """Table 5: multi-crop slightly beats dense, and the two combined beat either alone."""
    out = []
    for row, m in result["rows"].items():
        p = {k: v[0] for k, v in paper.TABLE5[row].items()}
        out.append(Claim.from_evidence(
            f"table5/multi-crop/{row}", "§4.3", f"multi-crop beats dense ({row})", "better",
            Evidence(m["multi-crop"]["top1"], m["dense"]["top1"],
                     *interval(same_nets(stored_se(m, "multi-crop vs dense")))),
            (p["multi-crop"], p["dense"])))
        out.append(Claim.from_evidence(
            f"table5/combined/{row}", "§4.3", f"multi-crop & dense beat either alone ({row})", "better",
            Evidence(m["dense+multi-crop"]["top1"], min(m["dense"]["top1"], m["multi-crop"]["top1"]),
                     *interval(same_nets(stored_se(m, "combined vs best")))),
            (p["multi-crop & dense"], min(p["dense"], p["multi-crop"]))))
    return out


#: Table 6's fusion methods as Table 5 names them (the single nets' evaluations).
FUSION_METHODS = {"dense": "dense", "multi-crop": "multi-crop", "multi-crop & dense": "dense+multi-crop"}


def fusion(name: str) -> tuple[tuple[str, ...], str]:
    """A Table 6 fusion's nets and its evaluation as the paper names it (``dense``,
    ``multi-crop``, ``multi-crop & dense``: the last words of the row)."""
    return (paper.SUBMISSION_NETS if name.startswith("ILSVRC") else JITTERED), name.rsplit(", ", 1)[1]


def best_member(result6: dict, name: str, result5: dict | None = None) -> tuple[float, Noise]:
    """A fusion's best single member tested as the fusion is, and the paired noise between the
    two: as the record stores it, or for records made before that, the best member by dense
    evaluation (Table 6's singles) for the dense fusions and by the fusion's method (Table 5's
    record; without it, dense) for the others, with the unpaired bound where the record pairs
    the fusion with another evaluation than its own."""
    v = result6["rows"][name]
    if "best_single" in v:
        return v["best_single"]["top1"], same_nets(v["paired_se"])
    nets, evaluation = fusion(name)
    method = FUSION_METHODS[evaluation]
    if method == "dense":
        return min(result6["singles"][r]["top1"] for r in nets), same_nets(stored_se(v))
    best = (min(result5["rows"][r][method]["top1"] for r in nets) if result5 is not None
            else min(result6["singles"][r]["top1"] for r in nets))
    n = result6["provenance"]["test_images"]
    return best, same_nets(unpaired_se(v["top1"], best, n), "unpaired bound (no per-image pairing stored)")


def table6_claims(result: dict, result5: dict | None = None) -> list[Claim]:
    """Table 6: each fusion beats its best single member tested the same way (dense for the
    7-net submission and the dense fusion; multi-crop, or both, for the others, which needs
    Table 5's record of the single nets)."""
    out = []
    for i, name in enumerate(result["rows"]):
        ours_b, noise = best_member(result, name, result5)
        nets, evaluation = fusion(name)
        paper_b = min(paper.TABLE4[r][0] if evaluation == "dense" else paper.TABLE5[r][evaluation][0] for r in nets)
        out.append(Claim.from_evidence(f"table6/fusion/{i}", "§4.4", f"the fusion beats its best single net: {name}",
                                       "better", Evidence(result["rows"][name]["top1"], ours_b, *interval(noise)),
                                       (paper.TABLE6[name][0], paper_b)))
    return out


def table7_claims(result5: dict, result6: dict) -> list[Claim]:
    """Table 7 (§4.5's sentence: two nets, multi-crop & dense, 23.7 % top-1, against the best
    single net, 24.4 %): the best 2-net fusion against its best single member tested the same
    way, paired on the same images."""
    two = {n: v for n, v in result6["rows"].items() if not n.startswith("ILSVRC")}
    name = min(two, key=lambda n: two[n]["top1"])
    single, noise = best_member(result6, name, result5)
    p = paper.TABLE7
    return [Claim.from_evidence("table7/fusion-vs-single", "§4.5",
                                f"the best fusion (2 nets: {fusion(name)[1]}) beats its best single net",
                                "better", Evidence(two[name]["top1"], single, *interval(noise)),
                                (p["VGG (2 nets, multi-crop & dense eval.)"][0],
                                 p["VGG (1 net, multi-crop & dense eval.)"][0]))]


def jitter_canvases_claims(result: dict) -> list[Claim]:
    """The diagnosis: does jittering beat the better fixed S where the object's size varies?
    Its noise is the paired one of the two nets on the same canvases (one seed each: a lower
    bound on the noise of two different nets, said so in the claim)."""
    multi = {r: v["multi"]["top1"] for r, v in result["rows"].items()}
    p4 = {k: v[0] for k, v in paper.TABLE4.items()}
    width, kind = interval(same_nets(stored_se(result), PAIRED + " (one seed per net: a lower bound)"))
    evidence = Evidence(multi["D/256-512"], multi[result["fixed"]], width, kind)
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
    for name, fn in (("table3", table3_claims), ("table4", table4_claims), ("table5", table5_claims)):
        if name in results:
            out += fn(results[name])
    if "table6" in results:
        out += table6_claims(results["table6"], results.get("table5"))
    if "table7" in results:
        out += table7_claims(results["table5"], results["table6"])
    if "jitter-canvases" in results:
        out += jitter_canvases_claims(results["jitter-canvases"])
    return out
