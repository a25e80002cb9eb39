"""Profiles (smoke, quick, full) as data: the numbers that scale the paper's protocol."""
from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, replace
from pathlib import Path

PROFILE_FILE = Path(__file__).with_name("profiles.toml")


@dataclass(frozen=True)
class Profile:
    """One scale of the protocol; every field is read from ``profiles.toml``."""

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
    val_size: int
    train_limit: int
    test_limit: int
    bf16: bool
    channels_last: bool
    workers: int
    eval_batch: int
    ckpt_every_steps: int
    train_folder: str
    decode: str

    def scale(self, paper_value: int) -> int:
        """A paper-unit scale (S or Q at crop 224) in this profile's pixels."""
        return round(paper_value * self.crop / 224)

    def as_dict(self) -> dict:
        """All fields, for run specs and provenance."""
        return asdict(self)

    def with_(self, **changes) -> Profile:
        """A copy with some fields changed (e.g. a smaller epoch cap for one run)."""
        unknown = set(changes) - set(self.as_dict())
        if unknown:
            raise ValueError(f"unknown profile fields {sorted(unknown)}; valid: {sorted(self.as_dict())}")
        return replace(self, **changes)


#: Sections of a profile that configure one part of the paper rather than the training engine.
SECTIONS = ("localisation", "transfer")


def _raw() -> dict[str, dict]:
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


def profiles() -> dict[str, Profile]:
    """Every profile in ``profiles.toml``."""
    return {name: Profile(name=name, **{k: v for k, v in values.items() if k not in SECTIONS})
            for name, values in _raw().items()}


def section(profile: str, name: str) -> dict:
    """One part's settings at a profile (``localisation``, ``transfer``), or an error that
    names the profiles having them: a part never falls back to another profile's numbers."""
    raw = _raw()
    if profile not in raw:
        raise ValueError(f"unknown profile {profile!r}; valid: {', '.join(raw)}")
    if name not in SECTIONS:
        raise ValueError(f"unknown settings section {name!r}; valid: {', '.join(SECTIONS)}")
    values = raw[profile][name]
    if not values:
        having = [p for p, v in raw.items() if v[name]]
        raise ValueError(f"profile {profile!r} has no [{profile}.{name}] settings in {PROFILE_FILE}; "
                         f"profiles that have them: {', '.join(having)}")
    return values


def get_profile(name: str) -> Profile:
    """The named profile, or an error listing the valid names."""
    table = profiles()
    if name not in table:
        raise ValueError(f"unknown profile {name!r}; valid: {', '.join(table)}")
    return table[name]
