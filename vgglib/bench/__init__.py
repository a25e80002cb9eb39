"""The benchmark of the reproduction itself (no part of the paper, so it registers no table and no
claim): training throughput, vgglib against torchvision, the CPU fast paths and their accuracy,
evaluation cost, the data pipeline, memory and this machine's limits, in one report
(``out/bench/bench.json``, its snapshot ``results/<profile>/bench.json``) that the book's
Performance page renders; beside it the end-to-end run of a table against its compute floor,
the long bf16 accuracy check and the prepared GPU check.  One command runs each:
``python -m vgglib.bench {all,throughput,accuracy,e2e,gpu}`` (``--help`` for each one's flags)."""
