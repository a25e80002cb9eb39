"""What identifies a result: the data by content and the computation by an explicit version.

A run key names the data set by a fingerprint of its bytes and the computation by the version
of its kind (:data:`VERSIONS`), never by a hash of source text: moving a module, renaming a
helper or adding type hints retrains nothing, while changed images or labels never reuse an old
run.  A developer bumps a kind's version when a change moves its numbers; the behaviour suite
(:mod:`vgglib.behaviour`, run by the tests) catches outputs that move without a bump and names
the version to bump."""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import torch

#: The version of each kind of stored computation, part of its key or cache name:
#:   classifier  a trained classification net (architecture, data path, augmentation, dropout,
#:               init, the training loop, the validation that drives its schedule)
#:   localiser   an Appendix A localisation net beyond its donor (head, boxes, canvases, loss)
#:   posteriors  cached test posteriors of a net (dense, multi-crop, centre, flips)
#:   features    cached Appendix B descriptors of a net
#: A localiser's key also holds its donor's key, and cached posteriors and features live in
#: their net's run directory, so bumping ``classifier`` renews everything built on the nets.
VERSIONS: dict[str, int] = {"classifier": 3, "localiser": 3, "posteriors": 2, "features": 2}


def version(kind: str) -> int:
    """The version of one kind of stored computation, or an error naming the kinds."""
    if kind not in VERSIONS:
        raise ValueError(f"unknown kind of computation {kind!r}; valid: {', '.join(VERSIONS)}")
    return VERSIONS[kind]


def versions_tag() -> str:
    """Every kind's version in one short string (``classifier1-localiser1-…``): what a long
    measurement records to refuse resuming across a change that moves numbers."""
    return "-".join(f"{kind}{v}" for kind, v in VERSIONS.items())


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
