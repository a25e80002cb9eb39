"""Build the book from stored records: convert each MyST notebook (``notebooks/*.md``) with
jupytext, execute it with papermill at a profile — its parameters checked against the ones the
notebook declares, since papermill only warns about an unknown name — copy the CSV exports
beside the pages, and run jupyter-book.

    python -m vgglib.book --profile quick                # book/_nb, then book/_build/html
    python -m vgglib.book --profile smoke --results DIR --book /tmp/book
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from .parts import tables
from .parts.page import DATA
from .results import REPO, results_dir

NOTEBOOKS = REPO / "notebooks"
#: Notebooks that take the profile only: performance reads the benchmark's own report and the
#: committed records under results/<profile>/, whatever folder the book is built from.
PROFILE_ONLY = {"performance"}


def check_parameters(notebook: str | Path, parameters: dict) -> None:
    """Raise if ``parameters`` names one the notebook's parameters cell does not declare."""
    import papermill as pm

    declared = pm.inspect_notebook(str(notebook))
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise ValueError(f"{Path(notebook).name} declares no parameter {', '.join(map(repr, unknown))}; "
                         f"it declares: {', '.join(declared) or 'none'}")


def convert(md: Path, out: Path) -> Path:
    """A MyST notebook as .ipynb (jupytext), for papermill."""
    import jupytext

    out.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(jupytext.read(md), out)
    return out


def execute(md: Path, nb_dir: Path, parameters: dict, kernel: str = "vgglib") -> Path:
    """Convert one notebook into ``nb_dir/src`` and execute it into ``nb_dir``."""
    import papermill as pm

    src = convert(md, nb_dir / "src" / f"{md.stem}.ipynb")
    check_parameters(src, parameters)
    out = nb_dir / src.name
    pm.execute_notebook(str(src), str(out), kernel_name=kernel, parameters=parameters, progress_bar=False,
                        cwd=str(REPO))
    hide_injected_parameters(out)
    return out


def hide_injected_parameters(notebook: Path) -> None:
    """Tag the cell papermill injects (the parameters it was given) ``remove-cell``, as the
    notebook's own parameters cell is: the page shows results, not settings."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    nbformat.write(nb, notebook)


def copy_exports(results: Path, nb_dir: Path) -> None:
    """``claims.csv`` and ``csv/*.csv`` beside the pages, where their download links point."""
    data = nb_dir / DATA
    if data.exists():
        shutil.rmtree(data)
    (data / "csv").mkdir(parents=True)
    if (results / "claims.csv").is_file():
        shutil.copy2(results / "claims.csv", data / "claims.csv")
    for f in sorted((results / "csv").glob("*.csv")):
        shutil.copy2(f, data / "csv" / f.name)


def missing_records(page: str, results: Path) -> list[str]:
    """The records a page renders that ``results`` does not hold yet (its own table's, and those
    it reads, e.g. Table 7's page reads Tables 5 and 6)."""
    needed = {name for t in tables().values() if t.page == page and t.study and not t.optional
              for name in (t.name, *t.needs)}
    return sorted(name for name in needed if not (results / f"{name}.json").is_file())


def stub(page: str, missing: list[str], profile: str, nb_dir: Path) -> Path:
    """A page saying which records it lacks and the command that computes them, instead of the
    notebook (so ``make reproduce-table4 PROFILE=smoke`` builds a book with the other pages)."""
    for old in nb_dir.glob(f"{page}.*"):
        old.unlink()
    title = next(t.title for t in tables().values() if t.page == page)
    commands = ", ".join(f"`make reproduce-{name} PROFILE={profile}`" for name in missing)
    them = "it" if len(missing) == 1 else "them"
    out = nb_dir / f"{page}.md"
    out.write_text(f"# {title}\n\nNo record of {', '.join(missing)} at the `{profile}` profile yet: compute {them} "
                   f"with {commands} (or `python -m vgglib reproduce {' '.join(missing)} --profile {profile}`); "
                   f"this page is rendered from {them}.\n")
    return out


def build(book: Path, profile: str = "quick", results: str | Path | None = None,
          notebooks: list[Path] | None = None, jupyter_book: str | None = None) -> Path:
    """Execute every notebook at ``profile`` into ``book/_nb`` (a page whose records are missing
    gets a stub naming the command that computes them) and build ``book/_build/html``."""
    results = results_dir(profile, results)
    nb_dir = book / "_nb"
    nb_dir.mkdir(parents=True, exist_ok=True)
    params = {"profile": profile, "results_dir": str(results)}
    for md in notebooks or sorted(NOTEBOOKS.glob("*.md")):
        if missing := missing_records(md.stem, results):
            stub(md.stem, missing, profile, nb_dir)
            continue
        (nb_dir / f"{md.stem}.md").unlink(missing_ok=True)
        execute(md, nb_dir, {"profile": profile} if md.stem in PROFILE_ONLY else params)
    copy_exports(results, nb_dir)
    exe = jupyter_book or str(Path(sys.executable).parent / "jupyter-book")
    subprocess.run([exe, "build", str(book), "--warningiserror", "--quiet"], check=True)
    return book / "_build" / "html"


def main(argv: list[str] | None = None) -> None:
    """``python -m vgglib.book``: execute the notebooks at a profile and build the book."""
    ap = argparse.ArgumentParser(prog="python -m vgglib.book", description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="quick")
    ap.add_argument("--results", default=None, help="the records' folder (default results/<profile>)")
    ap.add_argument("--book", default=str(REPO / "book"), help="the book's sources (default book/)")
    ap.add_argument("notebooks", nargs="*", help="notebook names to execute (default: all)")
    a = ap.parse_args(argv)
    mds = [NOTEBOOKS / f"{n}.md" for n in a.notebooks] or None
    print(build(Path(a.book), a.profile, a.results, mds) / "index.html")


if __name__ == "__main__":
    main()
