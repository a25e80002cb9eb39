"""A part of a table: the rows, test scales, evaluation method or number of noise seeds a reader
chooses instead of the paper's, checked, and the name of the folder its record is written to.

A table's choices are its driver's own keyword parameters (``table4(study, rows=…, scales=…,
method=…, seeds=…)``), so the defaults are written once, in the driver.  A record computed with
any choice that differs from the default is a part of the table, not the table: it is written to
``<results>/<table>-<choices>/<table>.json`` (e.g. ``table4-D256-E256-q256_320/table4.json``),
never over the full record, and the same page renders it from that folder."""
from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

from .evaluate import METHODS
from .parts import tables
from .runs import Row
from .weight_files import MIN_Q


def _rows(value: object, default: Sequence[str]) -> tuple[str, ...]:
    """A non-empty choice among the table's rows, in the table's order."""
    rows = [value] if isinstance(value, str) else list(value)
    unknown = [r for r in rows if r not in default]
    if not rows or unknown:
        raise ValueError(f"rows {unknown or rows!r}: choose one or more of {', '.join(default)}")
    return tuple(r for r in default if r in rows)


def _scales(value: object, default: None) -> list[int]:
    """Two or more test scales Q in the paper's units (≥ the 224-pixel crop), ascending."""
    qs = sorted({int(q) for q in ([value] if isinstance(value, int) else value)})
    if len(qs) < 2 or qs[0] < MIN_Q:
        raise ValueError(f"scales {value!r}: give two or more test scales Q in the paper's units, each ≥ {MIN_Q} "
                         f"(mapped to a profile by Q·crop/224), e.g. [256, 352]")
    return qs


def _method(value: object, default: str) -> str:
    """One of the evaluation methods of :mod:`vgglib.evaluate`."""
    if value not in METHODS:
        raise ValueError(f"method {value!r}: choose one of {', '.join(METHODS)}")
    return str(value)


def _seeds(value: object, default: None) -> int:
    """How many seeds each noise row is trained with: one or more (default: the profile's ``noise_seeds``)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"seeds {value!r}: give a whole number of seeds, 1 or more "
                         "(default: the profile's noise_seeds)")
    return value


def _deep(value: object, default: str) -> str:
    """The deep net §3.1's comparison trains both ways: a row of the init chain, e.g. ``E/256``."""
    row = Row.parse(str(value))
    if row.init != "chain" or row.config in ("A", "A-LRN"):
        raise ValueError(f"deep {value!r}: give a net that the init chain starts from A, e.g. {default} or E/256")
    return str(row)


#: The choices a driver may take, each with the check that types it.
KINDS: dict[str, Callable[[object, object], object]] = {
    "rows": _rows, "scales": _scales, "method": _method, "seeds": _seeds, "deep": _deep}


def choices(name: str) -> dict[str, object]:
    """The choices table ``name`` offers, with their defaults, read from its driver's signature."""
    known = tables()
    if name not in known:
        raise ValueError(f"unknown table {name!r}; valid: {', '.join(known)}")
    params = inspect.signature(known[name].compute).parameters
    return {k: p.default for k, p in params.items() if k in KINDS}


def chosen(name: str, given: dict[str, object]) -> dict[str, object]:
    """The choices of ``given`` that differ from table ``name``'s defaults, checked and typed
    (``None`` means the default); an error names the choices the table offers."""
    given = {k: v for k, v in given.items() if v is not None}
    if not given:
        return {}
    offered = choices(name)
    unknown = sorted(set(given) - set(offered))
    if unknown:
        raise ValueError(f"{name} offers no choice {', '.join(map(repr, unknown))}; "
                         f"it offers: {', '.join(offered) or 'none'}")
    out = {}
    for key, value in given.items():
        typed = KINDS[key](value, offered[key])
        default = offered[key]
        if typed != (tuple(default) if isinstance(default, (list, tuple)) else default):
            out[key] = list(typed) if isinstance(typed, tuple) else typed
    return out


def _word(key: str, value: object) -> str:
    """One choice as part of a folder name: rows ``D256-E256_512``, scales ``q256_320``,
    ``multi_crop``, ``seeds2``."""
    if key in ("rows", "deep"):
        return "-".join(r.replace("/", "").replace("-", "_") for r in ([value] if isinstance(value, str) else value))
    if key == "scales":
        return "q" + "_".join(map(str, value))
    if key == "seeds":
        return f"seeds{value}"
    return str(value).replace("-", "_").replace("+", "_and_")


def stem(name: str, picked: dict[str, object]) -> str:
    """The name of the record of table ``name`` with the choices ``picked`` (from :func:`chosen`):
    the table's own name without any, else the name with each choice in the driver's order."""
    if not picked:
        return name
    order = list(choices(name))
    return "-".join([name, *(_word(k, picked[k]) for k in order if k in picked)])
