"""CITATION.cff is valid Citation File Format 1.2.0 and cites this version and the paper.

The schema (tests/cff-schema-1.2.0.json) is vendored, so the test needs no network: it is the
file the CFF project publishes as https://citation-file-format.github.io/1.2.0/schema.json,
taken from the cffconvert 2.0.0 wheel (cffconvert itself needs jsonschema<4, which the lock's
jupyter packages exclude)."""
import json
import tomllib
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent


def citation() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text())


def test_citation_file_is_valid_cff_1_2_0():
    schema = json.loads((Path(__file__).parent / "cff-schema-1.2.0.json").read_text())
    assert schema["$id"] == "https://citation-file-format.github.io/1.2.0/schema.json"
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(citation()), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_citation_names_this_version_and_the_paper():
    cff = citation()
    assert cff["version"] == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    paper = next(r for r in cff["references"] if "1409.1556" in r["url"])
    assert paper["title"] == "Very Deep Convolutional Networks for Large-Scale Image Recognition"
    assert [a["family-names"] for a in paper["authors"]] == ["Simonyan", "Zisserman"]
    assert paper["year"] == 2015


def test_how_to_cite_sections_cite_this_version():
    version = citation()["version"]
    for page in ("README.md", "book/intro.md"):
        text = (ROOT / page).read_text()
        assert "## How to cite" in text and "1409.1556" in text, page
        assert f"version = {{{version}}}" in text, f"{page}'s BibTeX names another version than CITATION.cff"
