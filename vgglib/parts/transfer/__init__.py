"""Paper Appendix B, generalisation of very deep features: Tables 11–12."""
from .. import Table
from . import run
from .report import claims, frames

TABLES = [
    Table("table11", "transfer", "Table 11: image classification on other data sets", "table11_transfer",
          run.table11, transfer_root=True),
    Table("table12", "transfer", "Table 12: action classification", "table12_action", run.table12,
          transfer_root=True),
]
__all__ = ["TABLES", "claims", "frames"]
