"""Paper §3.1, training: the init chain against training from scratch."""
from .. import Table
from . import run
from .report import claims, frames

TABLES = [Table("training", "training", "Training (§3.1)", "training", run.training)]
__all__ = ["TABLES", "claims", "frames"]
