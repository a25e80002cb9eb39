"""Profiles (smoke, quick, full) as data: the numbers that scale the paper's protocol."""
from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import MISSING, dataclass, replace
from functools import cache
from pathlib import Path

PROFILE_FILE = Path(__file__).with_name("profiles.toml")


@dataclass(frozen=True)
class LocalisationSettings:
    """Appendix A's settings at one profile (``[<profile>.localisation]``): the localisers'
    learning rate and their own epoch cap (None: the profile's), and, where the profile draws
    its boxes on canvases, the canvas side (pixels), the canvases per split, the clutter
    fragments per canvas and the object's side as a fraction of the canvas."""

    lr: float
    max_epochs: int | None = None
    canvas: int | None = None
    train: int = 0
    val: int = 0
    test: int = 0
    clutter: int = 2
    min_side: float = 0.35
    max_side: float = 0.85


@dataclass(frozen=True)
class TransferSettings:
    """Appendix B's analogue targets at one profile (``[<profile>.transfer]``): canvas side (px);
    (train, val, test) canvases of the VOC-style and action-style targets; digits kept per class
    (0 = all, about 180); the Caltech-101 protocol's training and most test images per class;
    items per VOC canvas."""

    canvas: int
    voc: tuple[int, int, int]
    action: tuple[int, int, int]
    digits_per_class: int
    per_class: tuple[int, int] = (30, 50)
    items: tuple[int, int] = (2, 4)


def to_pixels(paper_value: int, crop: int) -> int:
    """A paper-unit scale (S or Q at crop 224) in the pixels of a profile whose crop is ``crop``."""
    return round(paper_value * crop / 224)


@dataclass(frozen=True)
class Profile:
    """One scale of the protocol; every field is read from ``profiles.toml``.  The sections of
    the parts that have them are typed (None where a profile has none)."""

    name: str
    dataset: str
    crop: int
    width: float
    fc_width: int
    batch: int
    lr: float
    lr_finetune: float
    momentum: float
    weight_decay: float
    dropout: float
    decays: int
    patience: int
    max_epochs: int
    max_epochs_finetune: int
    init: str
    init_std: float
    val_size: int | float
    train_limit: int
    test_limit: int
    bf16: bool
    channels_last: bool
    workers: int
    eval_batch: int
    ckpt_every_steps: int
    noise_seeds: int
    train_folder: str
    decode: str
    localisation: LocalisationSettings | None = None
    transfer: TransferSettings | None = None

    def scale(self, paper_value: int) -> int:
        """A paper-unit scale (S or Q at crop 224) in this profile's pixels."""
        return to_pixels(paper_value, self.crop)

    def as_dict(self) -> dict:
        """The profile's own fields (not its parts' sections), for provenance and ``--set``."""
        return {f: getattr(self, f) for f in self.__dataclass_fields__ if f not in SECTIONS}

    def with_(self, **changes) -> Profile:
        """A copy with some fields changed (e.g. a smaller epoch cap for one run, or a smaller
        section: ``localisation=replace(p.localisation, train=64)``)."""
        unknown = set(changes) - set(self.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown profile fields {sorted(unknown)}; valid: {sorted(self.as_dict())}")
        return replace(self, **changes)

    def section(self, name: str) -> LocalisationSettings | TransferSettings:
        """One part's settings, or an error that names the profiles having them: a part never
        falls back to another profile's numbers."""
        if name not in SECTIONS:
            raise ValueError(f"unknown settings section {name!r}; valid: {', '.join(SECTIONS)}")
        value = getattr(self, name)
        if value is None:
            having = [p for p, v in profiles().items() if getattr(v, name) is not None]
            raise ValueError(f"profile {self.name!r} has no [{self.name}.{name}] settings in {PROFILE_FILE}; "
                             f"profiles that have them: {', '.join(having)}")
        return value


#: Sections of a profile that configure one part of the paper rather than the training engine,
#: and their types.
SECTIONS = {"localisation": LocalisationSettings, "transfer": TransferSettings}


def paper_defaults() -> dict:
    """``[defaults]``: the paper's own settings, which each profile overrides in part."""
    with PROFILE_FILE.open("rb") as f:
        return tomllib.load(f)["defaults"]


def raw_profiles() -> dict[str, dict]:
    """Each profile's values: ``[defaults]`` overlaid with the profile's own, sections included."""
    with PROFILE_FILE.open("rb") as f:
        raw = tomllib.load(f)
    defaults = raw.pop("defaults")
    out = {}
    for name, values in raw.items():
        merged = {k: v for k, v in defaults.items() if k not in SECTIONS}
        merged.update({k: v for k, v in values.items() if k not in SECTIONS})
        for section in SECTIONS:
            merged[section] = {**defaults.get(section, {}), **values.get(section, {})}
        out[name] = merged
    return out


def _typed(name: str, values: dict) -> LocalisationSettings | TransferSettings | None:
    """A section's values as its type (lists as tuples), None where the profile sets none of
    the fields the type requires."""
    kind = SECTIONS[name]
    required = {f for f, d in kind.__dataclass_fields__.items() if d.default is MISSING}
    if not required <= set(values):
        return None
    unknown = set(values) - set(kind.__dataclass_fields__)
    if unknown:
        raise ValueError(f"{PROFILE_FILE}: unknown {name} settings {sorted(unknown)}; "
                         f"valid: {', '.join(kind.__dataclass_fields__)}")
    return kind(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


#: The ``bf16`` setting that leaves the choice to the hardware (:func:`native_bf16`).
NATIVE = "native"


def native_bf16() -> bool:
    """Whether the device training runs on (a GPU where one is visible, else the CPU: see
    ``train.device_for``) computes bf16 in hardware: a GPU that supports it, or a CPU with
    AVX-512 BF16 or AMX tiles.  Elsewhere, as on CPUs whose widest vectors are AVX2, PyTorch
    emulates bf16 through fp32, and a bf16 training step is many times slower than an fp32 one
    (the Performance page's CPU fast paths time both), so the speed setting would slow training."""
    import torch  # here, not at the top: reading a profile needs no torch unless it asks this

    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported(including_emulation=False)  # Ampere and later
    return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()


def resolved_bf16(value: bool | str) -> bool:
    """A profile's ``bf16`` as training uses it: ``true`` or ``false`` as written, ``"native"``
    by the hardware (:func:`native_bf16`).  Runs and records keep the resolved value, so a net's
    key and provenance say which arithmetic trained it."""
    if isinstance(value, bool):
        return value
    if value == NATIVE:
        return native_bf16()
    raise ValueError(f"{PROFILE_FILE}: bf16 = {value!r}; write true, false or \"{NATIVE}\"")


@cache
def profiles() -> dict[str, Profile]:
    """Every profile in ``profiles.toml``, its ``bf16`` resolved for this machine."""
    def typed(key: str, value: object) -> object:
        return _typed(key, value) if key in SECTIONS else resolved_bf16(value) if key == "bf16" else value

    return {name: Profile(name=name, **{k: typed(k, v) for k, v in values.items()})
            for name, values in raw_profiles().items()}


#: What a typed value may be, per field (checked for ``--set``): a test and the fix it names.
RANGES: dict[str, tuple[Callable[[object], bool], str]] = {
    "crop": (lambda v: v >= 32 and v % 32 == 0, "a multiple of 32, at least 32"),
    "width": (lambda v: v > 0, "> 0"), "fc_width": (lambda v: v >= 1, ">= 1"),
    "batch": (lambda v: v >= 1, ">= 1"), "lr": (lambda v: v > 0, "> 0"),
    "lr_finetune": (lambda v: v > 0, "> 0"), "momentum": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "weight_decay": (lambda v: v >= 0, ">= 0"), "dropout": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "decays": (lambda v: v >= 0, ">= 0"), "patience": (lambda v: v >= 1, ">= 1"),
    "max_epochs": (lambda v: v >= 1, ">= 1"), "max_epochs_finetune": (lambda v: v >= 1, ">= 1"),
    "init": (lambda v: v in ("normal", "glorot"), "normal or glorot"),
    "init_std": (lambda v: v > 0, "> 0"),
    "val_size": (lambda v: v >= 0 if isinstance(v, int) else 0 < v < 1,
                 "a count >= 0 or a fraction in (0, 1)"),
    "train_limit": (lambda v: v >= 0, ">= 0 (0 = all)"), "test_limit": (lambda v: v >= 0, ">= 0 (0 = all)"),
    "workers": (lambda v: v >= 0, ">= 0"), "eval_batch": (lambda v: v >= 1, ">= 1"),
    "ckpt_every_steps": (lambda v: v >= 1, ">= 1"),
    "dataset": (lambda v: v in ("fashion-mnist", "imagenet", "folder", "synthetic"),
                "fashion-mnist, imagenet, folder or synthetic"),
}
BOOLEANS = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}


def parse_field(field: str, text: str) -> object:
    """A profile field's value typed from text (``--set FIELD=VALUE``) and range-checked, or
    an error naming the field, the value and what it accepts."""
    base = profiles()["smoke"].as_dict()
    if field not in base or field == "name":
        raise ValueError(f"--set {field}={text}: no profile field {field!r}; valid: "
                         f"{', '.join(sorted(set(base) - {'name'}))}")
    kind = type(base[field])
    try:
        if field == "bf16" and text.strip().lower() == NATIVE:
            value = native_bf16()
        elif kind is bool:
            value = BOOLEANS[text.strip().lower()]
        elif field == "val_size" and any(c in text for c in ".eE"):
            value = float(text)
        else:
            value = kind(text)
    except (KeyError, ValueError):
        accepted = {bool: "true/false, yes/no, on/off or 1/0", int: "an integer",
                    float: "a number"}.get(kind, "text") + (f" or {NATIVE}" if field == "bf16" else "")
        raise ValueError(f"--set {field}={text}: {field} takes {accepted}") from None
    if field in RANGES and not RANGES[field][0](value):
        raise ValueError(f"--set {field}={text}: {field} must be {RANGES[field][1]}")
    return value


def get_profile(name: str) -> Profile:
    """The named profile, or an error listing the valid names."""
    table = profiles()
    if name not in table:
        raise ValueError(f"unknown profile {name!r}; valid: {', '.join(table)}")
    return table[name]
