"""Paper §4's rows as data: which nets each classification table and diagnosis names.

Data only (no torch): the drivers, the report, the figures and the benchmark all read these
lists from here, so rendering a page never imports the trainer."""
from __future__ import annotations

from ... import paper

#: Table 3's rows (single test scale), Table 4's (multi-scale), and §4.1's shallow-net pair.
TABLE3_ROWS = tuple(paper.TABLE3)
TABLE4_ROWS = tuple(paper.TABLE4)
SHALLOW_ROWS = ("B/256", "B-5x5/256")
JITTERED = ("D/256-512", "E/256-512")

#: The rows trained with several seeds (each through its own init chain, so every seed of
#: D/[256;512] trains a D/256 and a D/384 of its own): their spread is the noise of a comparison
#: between different nets, D/256 for nets trained at S = 256, D/384 and D/[256;512] for the
#: fine-tuned ones.  How many seeds is the profile's ``noise_seeds``.
NOISE_ROWS = ("D/256", "D/384", "D/256-512")

#: The comparisons of different nets that Table 3's claims make (a, b: the paper says a is better,
#: or no worse, or equal): the driver stores the paired standard error of each on the same test
#: images (single-scale dense), the report reads it.  The shallow pair is tested on the centre crop.
TABLE3_PAIRS = (("A/256", "A-LRN/256"), ("B/256", "A/256"), ("C/256", "B/256"), ("D/256", "C/256"),
                ("D/384", "C/384"), ("E/256", "D/256"), *((f"{c}/256-512", f"{c}/384") for c in "CDE"))
SHALLOW_PAIR = ("B/256", "B-5x5/256")


def table4_pairs() -> tuple[tuple[str, str], ...]:
    """The comparisons of different nets that Table 4's claims make (multi-scale dense): each
    deeper net against the next shallower one at every training scale, and each jittered net
    against both fixed scales (the claim takes the better one)."""
    pairs = []
    for s in ("256", "384", "256-512"):
        have = [c for c in "BCDE" if f"{c}/{s}" in TABLE4_ROWS]
        pairs += [(f"{deep}/{s}", f"{shallow}/{s}") for shallow, deep in zip(have, have[1:])]
    return (*pairs, *((f"{c}/256-512", f"{c}/{s}") for c in "CDE" for s in ("256", "384")))


#: The diagnosis of the scale-jittering claims: the same comparison where jittering has
#: something to learn (canvases whose object's size varies).
DIAGNOSIS_ROWS = ("D/256", "D/384", "D/256-512")

#: The diagnosis of the depth and LRN claims: how well each net fits the images it was trained
#: on, at S = 256 (Table 3's A, A-LRN and B–E) and at S = 384.
FIT_ROWS = ("A/256", "A-LRN/256", "B/256", "C/256", "D/256", "E/256", "C/384", "D/384", "E/384")
#: How many training images the fit is measured on: a fixed seeded subset of the training split.
FIT_IMAGES = 5000
