"""Every place where a profile differs from the paper: the settings that profiles.toml changes
(found by comparing each profile with ``[defaults]``, the paper's own numbers) and the readings
and analogues that no setting shows — each with why, and where its effect is measured.

The book's "Departures from the paper" page renders :func:`frame`; a test checks that every
setting a profile changes has its reason here, so a new departure cannot go unexplained."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from .profiles import SECTIONS, paper_defaults, raw_profiles


@dataclass(frozen=True)
class Departure:
    """One difference from the paper, in words."""

    what: str
    paper: str
    ours: str
    why: str
    measured: str   # where its effect is measured, or why it is not


#: Why a profile changes a setting of the paper's (one reason per profiles.toml field).
REASONS = {
    "dataset": ("data set: Fashion-MNIST (10 classes, 28-px grey items), not ILSVRC-2012 (1,000 classes)",
                "ImageNet cannot be downloaded or trained on two CPU cores; the errors are therefore "
                "comparable with the paper's in direction only, never in level",
                "every table page puts the paper's numbers beside ours; the Claims page compares directions"),
    "crop": ("crop size; every scale S, Q mapped by round(v·crop/224)",
             "keeps the paper's proportions at a size two cores can train",
             "Table 4's page counts the dense windows per side at each Q, paper against profile"),
    "width": ("conv widths scaled by width (64…512 × width)",
              "compute: a quarter width is 1/16 of the multiply-adds",
              "the architecture page counts parameters and multiply-adds of the analogue beside the paper's"),
    "fc_width": ("units of fc6 and fc7", "compute and memory at 10 classes",
                 "the architecture page counts the analogue's parameters"),
    "batch": ("batch size",
              "two CPU cores: a smaller batch steps more often in the same time",
              "not measured against 256 at quick"),
    "patience": ("the plateau schedule's patience", "the paper says only 'when the validation accuracy stopped "
                 "improving'; two epochs let one noisy epoch pass", "each page lists each net's epochs, decays "
                 "and what stopped it"),
    "max_epochs": ("an epoch cap as a guard", "the paper stopped after 370K iterations (74 epochs); a cap keeps a "
                   "profile's budget, the plateau schedule is meant to end training first",
                   "each page lists nets stopped by the cap ('epoch cap') instead of the schedule"),
    "max_epochs_finetune": ("an epoch cap for fine-tuned nets (S = 384 and jittered; localisers take their "
                            "section's max_epochs where it sets one)",
                            "as max_epochs", "as max_epochs"),
    "init": ("initialisation of fresh layers",
             "N(0, 0.01²) left C at chance at quick's width; the paper itself notes after submission that "
             "Glorot's init trains deep nets without pre-training", "the training page: init attenuation per "
             "config, and D from A against D from Glorot's init"),
    "val_size": ("held-out validation images",
                 "the paper validates on ILSVRC's 50K val images (and reports on them); Fashion-MNIST has "
                 "a test set, so validation is held out of the training images",
                 "not applicable"),
    "train_limit": ("training images used", "seconds-long tests", "not applicable"),
    "test_limit": ("test images used", "seconds-long tests", "not applicable"),
    "bf16": ("bf16 autocast", "bf16 is 1.9× faster than fp32 on these CPUs (smoke keeps fp32 for exact tests)",
             "below this table: make bench-accuracy trains D/256 in fp32 beside the bf16 run, tested as "
             "Table 4 does"),
    "channels_last": ("channels-last memory layout", "speed only; same numbers up to rounding",
                      "make bench: the fast paths with their accuracy"),
    "workers": ("data-loading worker processes", "speed only; the batches are the same (seeded per step)",
                "tests: the loader gives identical batches with any worker count"),
    "eval_batch": ("evaluation batch (images per load, crops per forward pass)", "speed and memory only",
                   "tests: any batch gives the same posteriors"),
    "ckpt_every_steps": ("checkpoint interval", "how much work a kill can lose; resume is exact",
                         "tests: a SIGKILLed run resumes to identical weights"),
}

#: What no profile setting shows: readings of the paper and properties of the analogue.
READINGS = (
    Departure("init scale", "'zero mean and 10⁻² variance' (σ = 0.1 as printed)",
              "σ = 0.01 (variance 10⁻⁴) at full",
              "σ = 0.1 multiplies the signal's variance by fan-in·σ²/2 ≈ 12–230 per layer, which no net of "
              "Table 1 trains with; σ = 0.01 is the reading the released models were trained with",
              "the training page: log-variance factor through each config for both inits"),
    Departure("colour shift", "Krizhevsky et al.'s PCA colour shift, α ~ N(0, 0.1)",
              "eigvec · (α · √λ), λ read as the component's variance on the 0–255 scale",
              "Krizhevsky's text leaves λ's scale implicit; √λ is the component's standard deviation",
              "not measured separately"),
    Departure("colour shift on grey images", "the PCA colour shift of RGB photos",
              "Fashion-MNIST's grey items copied to three equal channels: the shift's one non-zero component "
              "adds the same amount to every channel",
              "equal channels have an RGB covariance of rank one, so the colour shift becomes a brightness "
              "shift: it varies the intensity, never the hue", "not measured separately"),
    Departure("when training stops", "the rate decreased 3 times, training stopped after 370K iterations "
              "(74 epochs)", "after the third decrease, training stops at the next plateau of validation "
              "accuracy (patience epochs without a gain); the epoch cap (74 at full) is only a guard",
              "the paper gives the iteration count it stopped at, not its rule; stopping on the fourth plateau "
              "ends every net by the same rule at any scale, and each run records which ended it",
              "each record's provenance: epochs and what stopped every net"),
    Departure("image size", "ILSVRC photos of ~400×350 px and more", "28×28 Fashion-MNIST items up-sampled to every S",
              "Fashion-MNIST has no larger originals, so a larger S adds no detail: scale jittering has less "
              "to learn than on ImageNet", "Table 4's page: the jittering claims are marked weak"),
    Departure("pool5 at a 32-px crop", "7×7×512 pool5 map at 224 px", "1×1 map at 32 px",
              "the crop is 7× smaller; five 2×2 poolings leave one position",
              "Table 8's page: the fc6–fc7-only regression claim is marked weak"),
    Departure("dense stride", "class-score map every 32 px at the 224-px crop (crop/7)",
              "every crop/8 px at a 32-px crop (4 px): the stride of pools 3–5 removed and the layers after "
              "them dilated, one pass over the whole image; the net's own 32 px at 224",
              "the net's factor-2 poolings allow crop/8 as the nearest stride to the paper's crop/7; the "
              "whole-image pass gives each window its border from the image, as the paper's does",
              "tests: every 8th position is the plain whole-image pass, and equals offset-pooled shift and "
              "stitch; the Performance page: its cost per image"),
    Departure("test set", "ILSVRC-2012 validation set (50K), test server for a few rows",
              "Fashion-MNIST's 10K test images", "the data set", "not applicable"),
)


def _shown(key: str, value: object) -> str:
    """A setting as a reader reads it: yes/no for switches, "all" for a limit of 0."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key.endswith("_limit") and value == 0:
        return "all"
    return str(value)


def setting_departures(profile: str) -> pd.DataFrame:
    """The settings ``profile`` changes from the paper's ``[defaults]``, with the reason for each."""
    raw = raw_profiles()
    if profile not in raw:
        raise ValueError(f"unknown profile {profile!r}; valid: {', '.join(raw)}")
    defaults, rows = paper_defaults(), []
    for key, value in raw[profile].items():
        if key in SECTIONS or (key == "dataset" and profile == "full") or defaults.get(key) == value:
            continue
        what, why, measured = REASONS[key]
        rows.append(Departure(what, _shown(key, defaults.get(key, "ILSVRC-2012")), _shown(key, value), why, measured))
    return pd.DataFrame([asdict(d) for d in rows])


def frame(profile: str) -> pd.DataFrame:
    """Every departure of a profile: its settings, then the readings and analogues (at ``full``
    only the readings that apply at full size)."""
    at_full = ("init scale", "colour shift", "when training stops")
    readings = READINGS if profile != "full" else tuple(d for d in READINGS if d.what in at_full)
    return pd.concat([setting_departures(profile), pd.DataFrame([asdict(d) for d in readings])], ignore_index=True)
