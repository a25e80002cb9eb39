"""Paper Appendix A, localisation: Tables 8–10."""
from .. import Table
from . import run
from .report import claims, frames

TABLES = [
    Table("table8", "localisation", "Table 8: localisation, centre crop", "table8_localisation", run.table8),
    Table("table9", "localisation", "Table 9: dense localisation", "table9_dense_localisation", run.table9),
    Table("table10", "localisation", "Table 10: localisation, state of the art", "table10_localisation_sota",
          run.table10, needs=("table9",)),
]
__all__ = ["TABLES", "claims", "frames"]
