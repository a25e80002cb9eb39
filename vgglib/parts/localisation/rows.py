"""Appendix A's rows as data: which localisers and test scales each localisation table names.

Data only (no torch): the driver, the report and the figures read these from here."""
from __future__ import annotations

#: Table 8 (S = 384): paper row → (fine-tuned layers, regression type).
TABLE8_S = 384
TABLE8_ROWS = {"FC1+FC2/SCR": ("fc", "SCR"), "FC1+FC2/PCR": ("fc", "PCR"), "all/PCR": ("all", "PCR")}
#: Table 9: paper row → the (net, test scale Q) pairs whose boxes are pooled before the merge.
TABLE9_ROWS = {"256/256": (("D/256", 256),), "384/384": (("D/384", 384),),
               "384/352,384": (("D/384", 352), ("D/384", 384)),
               "fusion 256/256 + 384/352,384": (("D/256", 256), ("D/384", 352), ("D/384", 384))}
#: The classification system that names the top-5 classes: Table 6's best dense fusion.
CLASSIFIERS = ("D/256-512", "E/256-512")
DENSE_CLAIM = "dense, top-5 classes beats the centre crop, true class (S = 384)"
