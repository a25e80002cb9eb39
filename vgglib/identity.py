"""What identifies a result: the data by content and the code by source.

A run key names the data set by a fingerprint of its bytes and the code by a hash of the
source files that determine the weights, so changed images, labels or augmentation code
never silently reuse an old run, and cached posteriors never outlive the evaluation code."""
from __future__ import annotations

import ast
import hashlib
import os
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path

import torch

#: The package whose sources are hashed (a parameter, so a test can point it at an edited copy).
PACKAGE = Path(__file__).resolve().parent
#: The modules that determine a trained net's weights: the net, its data, its augmentation
#: and the batches' route to the device, the loop and the run store, the validation that
#: drives the learning-rate schedule (dense evaluation), and the localisers' boxes and canvases.
TRAINING_SOURCES = ("arch.py", "lrn.py", "dropout.py", "augment.py", "data.py", "images.py", "stats.py",
                    "fastdata.py", "train.py", "evaluate.py", "runs.py", "identity.py", "boxes.py", "box_data.py")
#: What determines cached test posteriors and features beyond the weights.
EVALUATION_SOURCES = ("features.py", "study.py")


def _code_only(source: str) -> str:
    """The module's syntax tree without docstrings: comments, docstrings and layout are not code."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


@cache
def _source_hash(path: Path, size: int, mtime_ns: int) -> str:
    return hashlib.sha256(_code_only(path.read_text()).encode()).hexdigest()


def code_version(modules: Iterable[str]) -> str:
    """A short hash of the code (not the comments or docstrings) of ``modules`` in :data:`PACKAGE`."""
    h = hashlib.sha256()
    for name in sorted(modules):
        path = PACKAGE / name
        st = path.stat()
        h.update(f"{name}:{_source_hash(path, st.st_size, st.st_mtime_ns)}\n".encode())
    return h.hexdigest()[:12]


def training_code_version() -> str:
    """The code version in every run key."""
    return code_version(TRAINING_SOURCES)


def evaluation_code_version() -> str:
    """The code version of cached posteriors and features: training's and evaluation's code."""
    return code_version(TRAINING_SOURCES + EVALUATION_SOURCES)


@lru_cache(maxsize=256)
def _file_hash(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def files_fingerprint(paths: Iterable[str | Path]) -> str:
    """A hash of the bytes of a few files (e.g. IDX files), cached per (path, size, mtime)."""
    h = hashlib.sha256()
    for p in sorted(map(str, paths)):
        st = os.stat(p)
        h.update(f"{os.path.basename(p)}:{_file_hash(p, st.st_size, st.st_mtime_ns)}\n".encode())
    return h.hexdigest()[:16]


def listing_fingerprint(root: str | Path, paths: Iterable[str | Path], labels: Iterable[int]) -> str:
    """A hash of many files' (relative path, label, size, mtime): cheap for an image tree, and
    changed whenever a file is added, removed, relabelled or rewritten."""
    h = hashlib.sha256()
    for p, label in zip(paths, labels):
        st = os.stat(p)
        h.update(f"{os.path.relpath(p, root)}\t{int(label)}\t{st.st_size}\t{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def tensor_fingerprint(*tensors: torch.Tensor) -> str:
    """A hash of tensors' dtypes, shapes and bytes (in-memory data sets, weight files)."""
    h = hashlib.sha256()
    for t in tensors:
        t = t.detach().cpu().contiguous()
        h.update(f"{t.dtype}{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()
