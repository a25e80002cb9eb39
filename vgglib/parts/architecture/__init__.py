"""Paper §2, architecture: Tables 1–2 and the §2.3 arithmetic, computed from the code."""
from .. import Table
from . import run
from .report import claims, frames

TABLES = [Table("table2", "architecture", "Architecture: Tables 1 and 2", "architecture", run.table2,
                study=False)]
__all__ = ["TABLES", "claims", "frames"]
