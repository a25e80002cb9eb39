"""``python -m vgglib.bench``: the benchmark's one command, a subcommand for each measurement.

    python -m vgglib.bench all --profile quick --out out/bench         # make bench: the whole report
    python -m vgglib.bench throughput --profile quick --configs A D    # the training throughput alone
    python -m vgglib.bench accuracy --profile quick --out out/bench    # make bench-accuracy: bf16 vs fp32
    python -m vgglib.bench e2e --profile quick --table table4          # make bench-e2e: wall time vs floor
    python -m vgglib.bench gpu --out out/bench                         # the prepared GPU check

``python -m vgglib.bench SUBCOMMAND --help`` lists each one's flags."""
from __future__ import annotations

import argparse
from types import ModuleType

from . import accuracy, e2e, gpu, run, throughput

#: Each subcommand: its module (whose docstring describes it, ``add_arguments`` declares its
#: flags and ``main`` runs it on the parsed arguments) and a line for the command's help.
COMMANDS: dict[str, tuple[ModuleType, str]] = {
    "all": (run, "every section in one report: bench.json, bench.md and its snapshot (make bench)"),
    "throughput": (throughput, "the training throughput alone: throughput.json and throughput.md"),
    "accuracy": (accuracy, "D/256 trained and tested in bf16 and in fp32: accuracy.json (make bench-accuracy)"),
    "e2e": (e2e, "a table from an empty run store, its wall time beside its compute floor (make bench-e2e)"),
    "gpu": (gpu, "the prepared GPU check: net D at 224, batch 256, bf16 (toy sizes without CUDA)"),
}


def parser() -> argparse.ArgumentParser:
    """The command line: one subparser per entry of COMMANDS."""
    top = argparse.ArgumentParser(prog="python -m vgglib.bench", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = top.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")
    for name, (module, summary) in COMMANDS.items():
        module.add_arguments(sub.add_parser(name, help=summary, description=module.__doc__,
                                            formatter_class=argparse.RawDescriptionHelpFormatter))
    return top


def main(argv: list[str] | None = None) -> None:
    """Parse ``argv`` (default: the command line) and run the chosen subcommand."""
    args = parser().parse_args(argv)
    COMMANDS[args.command][0].main(args)


if __name__ == "__main__":
    main()
