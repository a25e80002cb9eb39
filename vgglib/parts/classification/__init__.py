"""Paper §4, classification experiments: Tables 3–7."""
from .. import Table
from . import run
from .paper_claims import claims
from .report import frames

TABLES = [
    Table("table3", "classification", "Table 3: single test scale", "table3_single_scale", run.table3),
    Table("table4", "classification", "Table 4: multi-scale evaluation", "table4_multi_scale", run.table4),
    Table("table5", "classification", "Table 5: dense and multi-crop evaluation", "table5_dense_vs_multicrop",
          run.table5),
    Table("table6", "classification", "Table 6: fusion of several nets", "table6_fusion", run.table6),
    Table("table7", "classification", "Table 7: state of the art", "table7_state_of_the_art", run.table7,
          needs=("table5", "table6")),
    Table("jitter-canvases", "classification", "Diagnosis: scale jittering where the object's size varies",
          "table4_multi_scale", run.jitter_canvases, optional=True),
    Table("fit", "classification", "Diagnosis: how well each net fits its training images",
          "table3_single_scale", run.training_fit, optional=True),
]
__all__ = ["TABLES", "claims", "frames"]
