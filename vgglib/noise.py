"""The noise a claim's verdict allows, read from the records: written once, used by every part.

Two kinds: the *seed spread* of a row trained with several seeds, which stands for the noise of
a comparison between different nets, and the *paired* noise of the same nets on the same test
images, which each record stores beside the comparison it belongs to."""
from __future__ import annotations

PAIRED = "paired per image, 2 s.e."


def noise_row(*rows: str) -> str:
    """Which seed-noise row stands for a comparison of nets: D/256 when all were trained at
    S = 256 from random init or A, D/[256;512] when any was fine-tuned (S = 384 or jittered)."""
    return "D/256" if all(r.endswith("/256") for r in rows) else "D/256-512"


def seed_noise(result: dict, *rows: str, measure: str = "single") -> tuple[float, str]:
    """(spread, its description): the top-1 range over seeds of the noise row standing for a
    comparison of ``rows`` (tested single- or multi-scale)."""
    noise = result["noise"]
    row = noise_row(*rows) if rows else next(iter(noise))
    tops = [v[measure] for v in noise[row]["seeds"].values()]
    spread = round(max(tops) - min(tops), 2) if len(tops) > 1 else 0.0
    return spread, f"seed spread ({row}, {len(tops)} seeds)"


def paired(value: dict) -> tuple[float, str]:
    """The paired noise a record stores for a comparison of the same nets on the same images."""
    return value["paired"], PAIRED

