"""Every number the Departures and Architecture pages state comes from the profile, the code's
constants or the paper's numbers in vgglib.paper, never typed into text: the prose is rendered
(departures.frame, the method sentences the pages glue) and each number in it is looked up."""
import re
from fractions import Fraction

import pytest

from vgglib import arch, augment, departures, evaluate, lrn, methods, paper
from vgglib.data import FASHION_MNIST_CLASSES
from vgglib.profiles import get_profile, paper_defaults, profiles
from vgglib.targets import ACTION_CLASSES, VOC_CLASSES

#: Names that carry digits but state no quantity: data sets, layers, tables, record rows and
#: instruction sets.
NAMES = re.compile(r"ILSVRC-\d+|VOC-\d+|VOCdevkit|Caltech-\d+|and -\d+|fc\d|pool\d|conv\d_\d|pools? \d–\d|"
                   r"Tables? \d+(–\d+)?|§\d(\.\d)?|[A-E]/\d+(-\d+)?|bf16|fp32|0–255|N\(0,|AVX-512 BF16|AVX2")
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def numbers(text: str) -> set[float]:
    """Every number a text states, names left out, as floats (thousands separators dropped)."""
    return {float(n.replace(",", "")) for n in NUMBER.findall(NAMES.sub(" ", text))}


def values(obj: object) -> set[float]:
    """Every number in a profile, a setting or a tuple of them, with its derived forms the text
    uses: a width's fraction (1/4) and its square (1/16), a share as a percentage."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return set()
    if isinstance(obj, (tuple, list)):
        return set().union(*map(values, obj)) if obj else set()
    if hasattr(obj, "__dataclass_fields__"):
        return set().union(*(values(getattr(obj, f)) for f in obj.__dataclass_fields__))
    out = {float(obj)}
    if isinstance(obj, float) and 0 < obj < 1:
        f = Fraction(obj).limit_denominator()
        out |= {float(f.numerator), float(f.denominator), float(f.denominator ** 2), round(obj * 100, 6),
                float(obj ** 2), float(obj ** 0.5)}
    return out


def sources(profile: str) -> set[float]:
    """The numbers the pages of ``profile`` may state: its settings and the paper's, the code's
    constants and the quantities computed from them."""
    p, full = get_profile(profile), get_profile("full")
    lrn_layer = lrn.LRN()
    crop, stride = p.crop, evaluate.dense_stride(p.crop)
    fan = [layer.fan_in * full.init_std / 2 for c in "ABCDE" for layer in arch.plan(c) if layer.kind in ("conv", "fc")]
    allowed = values(p) | values(full) | values(tuple(v for v in paper_defaults().values() if not isinstance(v, dict)))
    allowed |= {float(v) for v in (arch.NATIVE_STRIDE, *arch.BLOCK_WIDTHS, len(arch.BLOCK_WIDTHS),
                                   evaluate.DENSE_STEPS_PER_CROP, stride, crop // stride, crop // arch.NATIVE_STRIDE,
                                   full.crop // arch.NATIVE_STRIDE, full.crop // evaluate.DENSE_STEPS_PER_CROP,
                                   full.crop / crop, augment.PAPER_COLOUR_STD, paper.ITERATIONS // 1000,
                                   paper.CLASSES, paper.ILSVRC_VAL_IMAGES // 1000,
                                   len(FASHION_MNIST_CLASSES), departures.FASHION_MNIST_SIDE, len(VOC_CLASSES),
                                   len(ACTION_CLASSES), lrn_layer.size, lrn_layer.alpha, lrn_layer.beta, lrn_layer.k,
                                   lrn_layer.alpha * lrn_layer.size, 1, 2, 3)}
    allowed |= {round(min(fan), 2), float(round(max(fan))), round(crop / evaluate.DENSE_STEPS_PER_CROP, 2)}
    allowed |= {float(s) for s in (256, 384, 512)} | {float(p.scale(s)) for s in (256, 384, 512)}
    return allowed


@pytest.mark.parametrize("profile", list(profiles()))
def test_every_number_on_the_departures_page_comes_from_the_profile_or_the_code(profile):
    table = departures.frame(profile)
    allowed = sources(profile)
    stray = {(row.what, n) for row in table.itertuples() for col in ("paper", "ours", "why", "measured")
             for n in numbers(getattr(row, col)) if not any(abs(n - a) < 1e-9 for a in allowed)}
    assert not stray, f"numbers no setting or constant gives: {sorted(stray)}"


@pytest.mark.parametrize("profile", list(profiles()))
def test_the_departures_state_this_profiles_settings(profile):
    """The settings rows show the profile's own values; the paper's column says "not given" for
    the settings the paper does not give, and the dense grid row states the code's stride."""
    p, table = get_profile(profile), departures.frame(profile).set_index("what")
    ours = {"batch size": p.batch, "checkpoint interval (steps)": p.ckpt_every_steps,
            "evaluation batch (images per load, crops per forward pass)": p.eval_batch,
            "data-loading worker processes": p.workers, "validation images held out of the training images": p.val_size}
    for what, value in ours.items():
        if what in table.index:
            assert table.loc[what, "ours"] == f"{value:,}", what
    for what in ("checkpoint interval (steps)", "data-loading worker processes", "bf16 autocast (training and "
                 "evaluation)", "validation images held out of the training images"):
        assert table.loc[what, "paper"] == departures.NOT_GIVEN, what
    if "dense evaluation's stride" in table.index:
        assert f"every {evaluate.dense_stride(p.crop)} pixels" in table.loc["dense evaluation's stride", "ours"]
        assert f"every {arch.NATIVE_STRIDE} pixels" in table.loc["dense evaluation's stride", "paper"]
    if p.localisation is not None and p.localisation.canvas:
        row = table.loc["localisation data (Tables 8–10)", "ours"]
        assert f"{p.localisation.canvas}×{p.localisation.canvas}" in row and f"{p.localisation.test:,} test" in row


def test_the_architecture_pages_method_sentences_state_the_codes_settings():
    """The LRN sentence reads the layer A-LRN builds, the dense sentence the stride the code runs."""
    layer = arch.build("A-LRN", width=1 / 16, crop=32, fc_width=8).features.norm1
    text = methods.lrn_method()
    assert type(layer).__name__ in text and f"α = {layer.alpha:g}" in text
    assert f"alpha={layer.alpha * layer.size:g}" in text and "LocalResponseNorm(size=5," in text
    assert numbers(text) <= sources("quick")
    for profile in profiles():
        text = methods.dense_method(profile)
        assert f"every {evaluate.dense_stride(get_profile(profile).crop)} pixels" in text
        assert numbers(text) <= sources(profile), profile


@pytest.mark.slow
def test_the_pages_glue_those_sentences(executed_book):
    """The executed Departures and Architecture pages paste exactly the sentences checked above."""
    import nbformat

    def glued(name: str) -> str:
        nb = nbformat.read(executed_book / "_nb" / f"{name}.ipynb", as_version=4)
        # glued outputs are stored under a prefixed mime type (…/text/markdown)
        return "\n".join(v for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                         for k, v in o.get("data", {}).items() if k.endswith("text/markdown"))

    assert methods.lrn_method() in glued("architecture")
    assert methods.dense_method("smoke") in glued("architecture")
    page = (executed_book / "_build" / "html" / "_nb" / "departures.html").read_text()
    for what in departures.frame("smoke")["what"]:
        assert what.replace("'", "&#x27;") in page, what
