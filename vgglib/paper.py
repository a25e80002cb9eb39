"""The paper's published numbers, as data, so every table puts them beside ours.

Errors are ILSVRC-2012 percentages (top-1, top-5) unless said otherwise; rows are keyed as
the paper writes them: ``config/train scale`` with a jittered scale as ``256-512``.
"""

CITATION = ("K. Simonyan and A. Zisserman. Very Deep Convolutional Networks for Large-Scale "
            "Image Recognition. ICLR 2015. arXiv:1409.1556")

#: §3.1: training stopped after 370K iterations (74 epochs); ILSVRC-2012 (§4): 1,000 classes,
#: 50K validation images (on which the paper reports).
ITERATIONS = 370_000
CLASSES = 1000
ILSVRC_VAL_IMAGES = 50_000

#: Table 2: parameters in millions.
TABLE2 = {"A": 133, "A-LRN": 133, "B": 133, "C": 134, "D": 138, "E": 144}

#: Table 3: single test scale (Q = S, or 384 for jittered S); (top-1, top-5).
TABLE3 = {
    "A/256": (29.6, 10.4), "A-LRN/256": (29.7, 10.5), "B/256": (28.7, 9.9),
    "C/256": (28.1, 9.4), "C/384": (28.1, 9.3), "C/256-512": (27.3, 8.8),
    "D/256": (27.0, 8.8), "D/384": (26.8, 8.7), "D/256-512": (25.6, 8.1),
    "E/256": (27.3, 9.0), "E/384": (26.9, 8.7), "E/256-512": (25.5, 8.0),
}
#: §4.1: the shallow 5×5 net's top-1 (centre crop) was 7% higher than B's; no table entry.
SHALLOW_TOP1_GAP = 7.0

#: Table 4: multi-scale test, Q = {S-32, S, S+32} or {Smin, mid, Smax}; (top-1, top-5).
TABLE4 = {
    "B/256": (28.2, 9.6),
    "C/256": (27.7, 9.2), "C/384": (27.8, 9.2), "C/256-512": (26.3, 8.2),
    "D/256": (26.6, 8.6), "D/384": (26.5, 8.6), "D/256-512": (24.8, 7.5),
    "E/256": (26.9, 8.7), "E/384": (26.7, 8.6), "E/256-512": (24.8, 7.5),
}

#: Table 5: S jittered, Q = {256, 384, 512}; method → (top-1, top-5).
TABLE5 = {
    "D/256-512": {"dense": (24.8, 7.5), "multi-crop": (24.6, 7.5), "multi-crop & dense": (24.4, 7.2)},
    "E/256-512": {"dense": (24.8, 7.5), "multi-crop": (24.6, 7.4), "multi-crop & dense": (24.4, 7.1)},
}

#: Table 6: fusion; (top-1 val, top-5 val, top-5 test), None where not reported.
TABLE6 = {
    "ILSVRC submission (7 nets), dense": (24.7, 7.5, 7.3),
    "D/256-512 + E/256-512, dense": (24.0, 7.1, 7.0),
    "D/256-512 + E/256-512, multi-crop": (23.9, 7.2, None),
    "D/256-512 + E/256-512, multi-crop & dense": (23.7, 6.8, 6.8),
}
#: The seven nets of the ILSVRC submission (Table 6, first row).
SUBMISSION_NETS = ("D/256", "D/384", "D/256-512", "C/256", "C/384", "E/256", "E/384")

#: Table 7: state of the art; (top-1 val, top-5 val, top-5 test).
TABLE7 = {
    "VGG (2 nets, multi-crop & dense eval.)": (23.7, 6.8, 6.8),
    "VGG (1 net, multi-crop & dense eval.)": (24.4, 7.1, 7.0),
    "VGG (ILSVRC submission, 7 nets, dense eval.)": (24.7, 7.5, 7.3),
    "GoogLeNet (1 net)": (None, 7.9, None),
    "GoogLeNet (7 nets)": (None, 6.7, None),
    "MSRA (11 nets)": (None, None, 8.1),
    "MSRA (1 net)": (27.9, 9.1, 9.1),
    "Clarifai (multiple nets)": (None, None, 11.7),
    "Clarifai (1 net)": (None, None, 12.5),
    "Zeiler & Fergus (6 nets)": (36.0, 14.7, 14.8),
    "Zeiler & Fergus (1 net)": (37.5, 16.0, 16.1),
    "OverFeat (7 nets)": (34.0, 13.2, 13.6),
    "OverFeat (1 net)": (35.7, 14.2, None),
    "Krizhevsky et al. (5 nets)": (38.1, 16.4, 16.4),
    "Krizhevsky et al. (1 net)": (40.7, 18.2, None),
}

#: Table 8: localisation error (%), ground-truth class, centre crop, S = 384.
TABLE8 = {("FC1+FC2", "SCR"): 36.4, ("FC1+FC2", "PCR"): 34.3, ("all", "PCR"): 33.1}
#: Table 9: top-5 localisation error (%), (val, test).
TABLE9 = {"256/256": (29.5, None), "384/384": (28.2, 26.7), "384/352,384": (27.5, None),
          "fusion 256/256 + 384/352,384": (26.9, 25.3)}
#: Table 10: localisation state of the art, top-5 error (val, test).
TABLE10 = {"VGG": (26.9, 25.3), "GoogLeNet": (None, 26.7), "OverFeat": (30.0, 29.9),
           "Krizhevsky et al.": (None, 34.2)}

#: Table 11: VOC-2007 mAP, VOC-2012 mAP, Caltech-101 and -256 mean class recall (± std).
TABLE11 = {
    "VGG Net-D": (89.3, 89.0, (91.8, 1.0), (85.0, 0.2)),
    "VGG Net-E": (89.3, 89.0, (92.3, 0.5), (85.1, 0.3)),
    "VGG Net-D & Net-E": (89.7, 89.3, (92.7, 0.5), (86.2, 0.3)),
}
#: Table 12: VOC-2012 action classification mAP.
TABLE12 = {"VGG D&E, image only": 79.2, "VGG D&E, image and bounding box": 84.0,
           "Oquab et al.": 70.2, "Gkioxari et al.": 73.6, "Hoai": 76.3}
