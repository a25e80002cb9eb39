"""Appendix B's rows as data: which nets' features go to which target, at which test scales.

Data only (no torch): the driver and the report read these from here."""
from __future__ import annotations

#: The nets whose features the paper transfers: its two best ILSVRC models, D and E, the ones
#: it released, trained with scale jittering (§4).  Late fusion stacks both.
NETS = {"D": "D/256-512", "E": "E/256-512"}
FUSION = "D&E"
#: Test scales Q (paper units) and how they are combined, per protocol (Appendix B).  The paper
#: gives no Q for the action task; it is a VOC-2012 task, so it gets VOC's setting.
Q_SETS = {"voc": (256, 384, 512, 640, 768), "caltech": (256, 384, 512), "action": (256, 384, 512, 640, 768)}
AGGREGATION = {"voc": "average", "caltech": "stack", "action": "average"}
#: Table 11's columns, in the paper's order (index into ``paper.TABLE11``'s tuples).
COLUMNS = ("VOC-2007", "VOC-2012", "Caltech-101", "Caltech-256")
