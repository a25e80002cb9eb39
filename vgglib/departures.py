"""Every place where a profile differs from the paper: the settings it changes from the paper's
(``[defaults]`` of profiles.toml), the settings the paper never gives (ours at every profile,
the paper's column says "not given"), and the readings and analogues no setting shows — each
with why, and where its effect is measured.  Every number in the text is formatted from the
profile, the code's constants or :mod:`vgglib.paper`, never typed.

The book's "Departures from the paper" page renders :func:`frame`; a test checks that every
setting a profile changes has its reason here, so a new departure cannot go unexplained."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction

import pandas as pd

from . import arch, augment, evaluate, methods, paper
from .data import FASHION_MNIST_CLASSES
from .parts.classification.rows import NOISE_ROWS
from .parts.show import NOT_GIVEN
from .profiles import NATIVE, SECTIONS, Profile, get_profile, paper_defaults, raw_profiles
from .targets import ACTION_CLASSES, VOC_CLASSES

#: Fashion-MNIST's items' side in pixels (the data set's own, Xiao et al. 2017).
FASHION_MNIST_SIDE = 28

#: Settings of ``[defaults]`` that are ours, not the paper's: the paper gives no value for them.
OURS_ONLY = ("patience", "max_epochs_finetune", "val_size", "bf16", "channels_last", "workers", "eval_batch",
             "ckpt_every_steps", "train_folder", "decode", "noise_seeds")
#: Of those, the ones that only matter for data read from image files (ILSVRC or a folder).
FILES_ONLY = ("train_folder", "decode")


@dataclass(frozen=True)
class Departure:
    """One difference from the paper, in words."""

    what: str
    paper: str
    ours: str
    why: str
    measured: str   # where its effect is measured, or why it is not


def reasons(p: Profile) -> dict[str, tuple[str, str, str]]:
    """Why a profile changes (or sets) each setting: (what, why, where measured), per field."""
    d = paper_defaults()
    work = Fraction(p.width).limit_denominator() ** 2
    return {
        "dataset": (f"data set: Fashion-MNIST ({len(FASHION_MNIST_CLASSES)} classes of grey items), not ILSVRC-2012 "
                    f"({paper.CLASSES:,} classes)",
                    "ILSVRC-2012 cannot be downloaded or trained on two CPU cores; the errors are therefore "
                    "comparable with the paper's in direction only, never in level",
                    "every table page puts the paper's numbers beside ours; the Claims page compares directions"),
        "crop": (f"crop size; every scale S, Q mapped by round(v·crop/{d['crop']})",
                 "keeps the paper's proportions at a size two cores can train",
                 "Table 4's page counts the dense windows per side at each Q, paper against profile"),
        "width": (f"conv widths scaled by width ({arch.BLOCK_WIDTHS[0]}…{max(arch.BLOCK_WIDTHS)} × width)",
                  f"compute: width {p.width:g} costs {work} of the paper's multiply-adds per layer",
                  "the architecture page counts parameters and multiply-adds of the analogue beside the paper's"),
        "fc_width": ("units of fc6 and fc7", "compute and memory, at the data set's classes",
                     "the architecture page counts the analogue's parameters"),
        "batch": ("batch size", "two CPU cores: a smaller batch steps more often in the same time",
                  f"not measured against {d['batch']} at this profile"),
        "patience": ("epochs without a gain before the rate decays (the plateau schedule's patience)",
                     "the paper says only 'when the validation set accuracy stopped improving'; "
                     + (f"{p.patience} epochs let one noisy epoch pass" if p.patience > 1 else
                        "one epoch keeps the tests short"),
                     "each page lists each net's epochs, decays and what stopped it"),
        "max_epochs": ("an epoch cap as a guard",
                       f"the paper stopped after {paper.ITERATIONS // 1000}K iterations ({d['max_epochs']} epochs); "
                       "a cap keeps a profile's running time, the plateau schedule is meant to end training first",
                       "each page lists nets stopped by the cap ('epoch cap') instead of the schedule"),
        "max_epochs_finetune": ("an epoch cap for fine-tuned nets (S = 384 and jittered; localisers take their "
                                "section's max_epochs where it sets one)",
                                "the paper gives no length for fine-tuning; a guard, as max_epochs",
                                "as max_epochs"),
        "init": ("initialisation of fresh layers",
                 f"N(0, {d['init_std']:g}²) left C at chance at quick's width; the paper itself notes after "
                 "submission that Glorot's init trains deep nets without pre-training",
                 "the training page: init attenuation per config, and D from A against D from Glorot's init"),
        "val_size": ("validation images held out of the training images",
                     f"the paper validates on ILSVRC's {paper.ILSVRC_VAL_IMAGES // 1000}K validation images, which "
                     "it also reports on; here the test set is kept apart, so validation is held out of training",
                     "not applicable"),
        "train_limit": ("training images used", "seconds-long tests", "not applicable"),
        "test_limit": ("test images used", "seconds-long tests", "not applicable"),
        "bf16": ("bf16 autocast (training and evaluation)",
                 {NATIVE: "speed where the device computes bf16 in hardware (a CPU with AVX-512 BF16 or AMX, a GPU "
                          "with bf16); elsewhere bf16 is emulated and slower than fp32, so fp32 is used. Each "
                          "record's provenance says which trained its nets; the Performance page times each CPU "
                          "fast path on the machine that ran it",
                  True: "speed: the Performance page times each CPU fast path"}.get(
                     raw_profiles()[p.name]["bf16"], "fp32 keeps the tests' numbers exact"),
                 "below this table: D/256 trained to the end in fp32 beside bf16 (make bench-accuracy), tested "
                 "as Table 4 does"),
        "channels_last": ("channels-last memory layout", "speed only; the same arithmetic" if p.channels_last
                          else "the default layout, as the tests compare it with",
                          "make bench: the fast paths with their accuracy"),
        "workers": ("data-loading worker processes", "speed only; the batches are the same (seeded per step)",
                    "tests: the loader gives identical batches with any worker count"),
        "eval_batch": ("evaluation batch (images per load, crops per forward pass)", "speed and memory only",
                       "tests: any batch gives the same posteriors"),
        "noise_seeds": (f"seeds of each noise row ({', '.join(NOISE_ROWS)})",
                        "their pooled variance is the training noise of every comparison of different nets, and "
                        "its degrees of freedom set how wide a verdict's interval is",
                        "the noise tests: at the seed spread the committed Table 4 measures, these seeds decide a "
                        "true gap of three noise widths in at least four of five simulated draws"),
        "ckpt_every_steps": ("checkpoint interval (steps)", "how much work a kill can lose; resume is exact",
                             "tests: a SIGKILLed run resumes to identical weights"),
        "train_folder": ("training images' folder", "speed only: a copy pre-resized to the largest S decodes faster",
                         "make bench: the data pipeline per core"),
        "decode": ("where JPEGs are decoded", "speed only: on the CPU, or on the GPU (nvJPEG)",
                   "make bench: the data pipeline per core"),
    }


def _shown(key: str, value: object) -> str:
    """A setting as a reader reads it: yes/no for switches, "all" for a limit of 0."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key == "bf16" and value == NATIVE:
        return "where the hardware computes bf16, else fp32"
    if key.endswith("_limit") and value == 0:
        return "all"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def setting_departures(profile: str) -> pd.DataFrame:
    """The settings ``profile`` changes from the paper's ``[defaults]`` and those the paper never
    gives (its column "not given"), with the reason for each."""
    raw = raw_profiles()
    if profile not in raw:
        raise ValueError(f"unknown profile {profile!r}; valid: {', '.join(raw)}")
    p, defaults, rows = get_profile(profile), paper_defaults(), []
    why = reasons(p)
    for key, value in sorted(raw[profile].items(), key=lambda kv: kv[0] != "dataset"):
        ours_only = key in OURS_ONLY and (key not in FILES_ONLY or p.dataset != "fashion-mnist")
        if key in SECTIONS or (key == "dataset" and profile == "full") or (
                defaults.get(key) == value and not ours_only) or (key in FILES_ONLY and not ours_only):
            continue
        paper_value = NOT_GIVEN if key in OURS_ONLY else _shown(key, defaults.get(key, "ILSVRC-2012"))
        what, reason, measured = why[key]
        rows.append(Departure(what, paper_value, _shown(key, value), reason, measured))
    return pd.DataFrame([asdict(d) for d in rows])


def readings(p: Profile) -> list[Departure]:
    """What no setting shows: readings of the paper's text, and the analogues a small profile
    puts in place of ILSVRC and the Appendix B data sets (those of ``p`` only)."""
    full = get_profile("full")
    fan = [(layer.fan_in * full.init_std / 2, layer.name) for c in ("A", "B", "C", "D", "E")
           for layer in arch.plan(c) if layer.kind in ("conv", "fc")]
    (low, low_at), (high, high_at) = min(fan), max(fan)
    out = [
        Departure("init scale", f"'zero mean and {full.init_std:g} variance' (σ = {full.init_std ** 0.5:g} as "
                  "printed)", f"σ = {full.init_std:g} (variance {full.init_std ** 2:g}) at full",
                  f"σ = {full.init_std ** 0.5:g} multiplies the signal's variance by fan-in·σ²/2 per layer, from "
                  f"{low:.2f} ({low_at}) to {high:.0f} ({high_at}): no net of Table 1 trains with that; "
                  f"σ = {full.init_std:g} is the reading the released models were trained with",
                  "the training page: log-variance factor through each config for both inits"),
        Departure("colour shift", f"Krizhevsky et al.'s PCA colour shift, α ~ N(0, {augment.PAPER_COLOUR_STD:g})",
                  "eigvec · (α · √λ), λ read as the component's variance on the 0–255 scale",
                  "Krizhevsky's text leaves λ's scale implicit; √λ is the component's standard deviation",
                  "not measured separately"),
        Departure("when training stops",
                  f"the rate decreased {full.decays} times, training stopped after {paper.ITERATIONS // 1000}K "
                  f"iterations ({full.max_epochs} epochs)",
                  f"after the {_nth(p.decays)} decrease, training stops at the next plateau of validation accuracy "
                  f"({p.patience} epoch{'s' if p.patience > 1 else ''} without a gain); the epoch cap "
                  f"({full.max_epochs} at full" + (f", {p.max_epochs} here" if p is not full else "") +
                  ") is only a guard",
                  "the paper gives the iteration count it stopped at, not its rule; stopping on the plateau after "
                  "the last decrease ends every net by the same rule at any scale, and each run records which "
                  "ended it", "each record's provenance: epochs and what stopped every net"),
        Departure("seeds", NOT_GIVEN + " (one net per configuration, no spread reported)",
                  f"every run seeded (data order, augmentation, dropout, init); {', '.join(NOISE_ROWS[:-1])} and "
                  f"{NOISE_ROWS[-1]} trained with several seeds each (the setting noise_seeds)",
                  "a verdict needs the noise between two separately trained nets, which single runs cannot show",
                  "the Claims page's noise model; Tables 3 and 4 pool the seed variance"),
    ]
    if p.dataset == "fashion-mnist":
        out += analogues(p)
    return out


def _nth(n: int) -> str:
    """1 → first, 2 → second, 3 → third; beyond, 4th."""
    return {1: "first", 2: "second", 3: "third"}.get(n, f"{n}th")


def analogues(p: Profile) -> list[Departure]:
    """The Fashion-MNIST profile's analogues: of ILSVRC's images, of its test set, of the dense
    grid at a small crop, of the localisation data and of the Appendix B targets."""
    full, pool5 = get_profile("full"), p.crop // arch.NATIVE_STRIDE
    out = [
        Departure("colour shift on grey images", "the PCA colour shift of RGB photos",
                  "Fashion-MNIST's grey items copied to three equal channels: the shift's one non-zero component "
                  "adds the same amount to every channel",
                  "equal channels have an RGB covariance of rank one, so the colour shift becomes a brightness "
                  "shift: it varies the intensity, never the hue", "not measured separately"),
        Departure("image size", "ILSVRC photos, hundreds of pixels a side",
                  f"{FASHION_MNIST_SIDE}×{FASHION_MNIST_SIDE} Fashion-MNIST items up-sampled to every S",
                  "Fashion-MNIST has no larger originals, so a larger S adds no detail: scale jittering has less "
                  "to learn than on ImageNet", "Table 4's page: the jittering claims are marked weak, and "
                  "a diagnosis repeats them on canvases where the object's size varies"),
        Departure("test set", f"ILSVRC-2012's {paper.ILSVRC_VAL_IMAGES // 1000}K validation images, the test server "
                  "for a few rows", "Fashion-MNIST's test images" + (f" (the first {p.test_limit:,})"
                                                                     if p.test_limit else " (all of them)"),
                  "the data set", "each page names its number of test images"),
    ]
    if pool5 < full.crop // arch.NATIVE_STRIDE:
        size = full.crop // arch.NATIVE_STRIDE
        out.append(Departure(f"pool5 at a {p.crop}-px crop",
                             f"{size}×{size}×{arch.BLOCK_WIDTHS[-1]} pool5 map at {full.crop} px",
                             f"{pool5}×{pool5} map at {p.crop} px",
                             f"the crop is {full.crop / p.crop:g}× smaller, and each of the net's "
                             f"{len(arch.BLOCK_WIDTHS)} poolings halves it: {p.crop} px leave {pool5}×{pool5}",
                             "Table 8's page: the fc6–fc7-only regression claim is marked weak"))
    if evaluate.dense_stride(p.crop) != evaluate.dense_stride(full.crop):
        out.append(Departure("dense evaluation's stride", methods.dense_method("full"), methods.dense_method(p.name),
                             "a small crop needs a finer grid than the net's own stride to average about as many "
                             "windows per image as the paper's; the whole-image pass gives each window its border "
                             "from the image, as the paper's does",
                             "tests: every stride-32 position is the plain whole-image pass, and equals "
                             "offset-pooled shift and stitch; the Performance page: its cost per image"))
    if p.localisation is not None and p.localisation.canvas:
        loc = p.localisation
        out.append(Departure("localisation data (Tables 8–10)", "ILSVRC-2012's localisation boxes",
                             f"{loc.canvas}×{loc.canvas}-px canvases, one Fashion-MNIST item at {loc.min_side:.0%}–"
                             f"{loc.max_side:.0%} of the side anywhere on it among {loc.clutter} clutter fragments, "
                             f"its box exact; {loc.train:,} training, {loc.val:,} validation and {loc.test:,} test "
                             "canvases, test canvases from test images only",
                             "Fashion-MNIST has no boxes and its items fill the frame: a canvas gives an object a "
                             "size, a place and an exact box", "the notes of the Table 8, 9 and 10 pages"))
    if p.transfer is not None:
        t = p.transfer
        out += [
            Departure("VOC-2007 and VOC-2012 classification (Table 11)",
                      f"PASCAL VOC photos, {len(VOC_CLASSES)} classes",
                      f"{t.canvas}×{t.canvas}-px canvases of {t.items[0]}–{t.items[1]} Fashion-MNIST test items, "
                      f"labels the classes present; {t.voc[0]:,} training, {t.voc[1]:,} validation, {t.voc[2]:,} "
                      "test canvases", "no VOC download; test items were never seen in pre-training",
                      "Table 11's page, its VOC-style column"),
            Departure("Caltech-101 and -256 (Table 11)", "Caltech-101 and Caltech-256 photos",
                      f"scikit-learn's small handwritten digits: {t.per_class[0]} training and up to "
                      f"{t.per_class[1]} test images per class in each seeded split",
                      "no Caltech download; digits are another domain than Fashion-MNIST, as Caltech is "
                      "another than ILSVRC", "Table 11's page, its Caltech-style column"),
            Departure("VOC-2012 action classification (Table 12)", f"PASCAL VOC-2012 action photos, "
                      f"{len(ACTION_CLASSES)} actions, the person's box given",
                      f"{t.canvas}×{t.canvas}-px canvases with one larger Fashion-MNIST test item, its box given "
                      f"and its class the label, among smaller distractors; {t.action[0]:,} training, "
                      f"{t.action[1]:,} validation, {t.action[2]:,} test canvases",
                      "as the action's person, the labelled item is told apart only by its box",
                      "Table 12's page"),
        ]
    return out


def frame(profile: str) -> pd.DataFrame:
    """Every departure of a profile: its settings, then the readings and analogues."""
    p = get_profile(profile)
    return pd.concat([setting_departures(profile), pd.DataFrame([asdict(d) for d in readings(p)])],
                     ignore_index=True)

