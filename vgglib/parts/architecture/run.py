"""Paper §2: the numbers Tables 1–2 and §2.3 state, counted from our code (no data, no training)."""
from __future__ import annotations

import time

from ... import arch
from ...profiles import Profile
from ...results import provenance

CONFIGS = ("A", "A-LRN", "B", "C", "D", "E", "B-5x5")


def table2(profile: Profile) -> dict:
    """Parameters of every configuration at the paper's size and at the profile's, and the
    weights of the §2.3 stacks (three 3×3 layers against one 7×7, two against one 5×5)."""
    started = time.time()
    full = {c: arch.count_params(c) for c in CONFIGS}
    scaled = {c: arch.count_params(c, num_classes=10, width=profile.width, crop=profile.crop,
                                   fc_width=profile.fc_width) for c in CONFIGS}
    stacks = {f"{n}x{k}": n * k * k for n, k in ((3, 3), (1, 7), (2, 3), (1, 5))}
    return {"params": full, "params_profile": scaled, "stack_weights_per_c2": stacks,
            "provenance": provenance(profile.name, started)}
