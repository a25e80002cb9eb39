"""The book's descriptions of how vgglib computes what it reports, written from the code's own
settings (strides, layer sizes, constants) so that no page can describe a method the code no
longer runs: dense evaluation (§3.2), the LRN layer of A-LRN, and where a stored record was
computed by an earlier form of dense evaluation, a sentence that says so."""
from __future__ import annotations

from . import arch, evaluate
from .profiles import get_profile, paper_defaults

#: When dense evaluation became one pass over the whole image at :func:`evaluate.dense_stride`
#: (a record's provenance date, UTC): records dated before it sampled crop-sized windows every
#: crop/7 pixels and ran each window as a crop of its own, zero-padded at its border.
ONE_PASS_SINCE = "2026-12-06 03:29 UTC"


def _pools(stride: int) -> str:
    """The poolings whose stride a dense pass at ``stride`` removes, e.g. "pools 3–5"."""
    names = [layer.name for layer in arch.plan("D") if layer.kind == "pool"]
    removed = sorted(arch.rarefied_pools(names, stride), key=names.index)
    numbers = [n.removeprefix("pool") for n in removed]
    return f"pool {numbers[0]}" if len(numbers) == 1 else f"pools {numbers[0]}–{numbers[-1]}"


def dense_grid(profile: str) -> str:
    """The dense pass as the code runs it at ``profile``, in one clause (Markdown): the layers it
    turns into convolutions and the stride of its output map, and why that stride."""
    crop, paper_crop = get_profile(profile).crop, paper_defaults()["crop"]
    k, stride, native = crop // arch.NATIVE_STRIDE, evaluate.dense_stride(crop), arch.NATIVE_STRIDE
    steps = evaluate.DENSE_STEPS_PER_CROP
    if stride == native:
        grid = f"{stride} pixels ({crop}/{crop // stride}: the net's own stride, as in the paper)"
    else:
        grid = (f"{stride} pixels ({crop}/{crop // stride} at a {crop}-pixel crop: the stride of {_pools(stride)} "
                f"removed and the layers after them dilated, the nearest the net's factor-2 poolings come to the "
                f"paper's {paper_crop}/{steps} = {paper_crop // steps} pixels)")
    return (f"the net runs once over the whole test image rescaled to Q, its fully connected layers as "
            f"convolutions (fc6 a {k}×{k} one over pool5's map, fc7 and fc8 1×1 ones), and gives one output per "
            f"crop-sized window every {grid}")


def dense_method(profile: str) -> str:
    """Dense evaluation (§3.2) as the code runs it at ``profile``, in one sentence (Markdown): the
    pass (:func:`dense_grid`) and how its class-score map becomes posteriors."""
    return (f"{dense_grid(profile)}; the class-score map is averaged over its positions, soft-maxed, and averaged "
            f"with the mirror image's")


def dense_record_note(record: dict, name: str, profile: str) -> str:
    """Where record ``name`` was computed before dense evaluation took its present form
    (:data:`ONE_PASS_SINCE`), a sentence naming how its dense numbers were computed instead and
    the command that recomputes them; else the empty string."""
    prov = record["provenance"]
    if prov["date"] >= ONE_PASS_SINCE:
        return ""
    crop = get_profile(profile).crop
    step = record.get("stride_px", round(crop / evaluate.DENSE_STEPS_PER_CROP, 2))
    return (f"This page's record was computed on {prov['date']} (commit `{prov['commit']}`), before dense "
            f"evaluation took this form: its dense numbers average crop-sized windows every {step} pixels "
            f"({crop}/{evaluate.DENSE_STEPS_PER_CROP}), each run through the net as a crop of its own, "
            f"zero-padded at its border, where the code now reads every {evaluate.dense_stride(crop)} pixels from "
            f"one pass, each window's border from the image. `python -m vgglib reproduce {name} --profile "
            f"{profile}` recomputes it the present way.")


def lrn_method() -> str:
    """The LRN layer that configuration A-LRN builds, in one sentence (Markdown), its settings
    read from the built layer."""
    lrn = arch.build("A-LRN", width=1 / 16, crop=arch.NATIVE_STRIDE, fc_width=8).features.norm1
    return (f"vgglib's own layer, `{type(lrn).__module__}.{type(lrn).__name__}`: a channel's activation divided "
            f"by (k + α·Σa²)^β, the sum over the {lrn.size} neighbouring channels, with size {lrn.size}, "
            f"α = {lrn.alpha:g}, β = {lrn.beta:g} and k = {lrn.k:g} as Krizhevsky et al. write it. It equals "
            f"`torch.nn.LocalResponseNorm(size={lrn.size}, alpha={lrn.alpha * lrn.size:g}, beta={lrn.beta:g}, "
            f"k={lrn.k:g})` up to float rounding (PyTorch divides α by the size, so its α is "
            f"{lrn.size} times Krizhevsky's), written out for bf16 and channels-last tensors, for which PyTorch's "
            f"layer has no fast kernel")
