"""Every entry of the book's bibliography formats without a missing field: the book builds with warnings as errors, and
pybtex (what sphinxcontrib-bibtex formats with) warns about a missing required field, e.g. an @inproceedings without
booktitle."""
import re
from pathlib import Path

import pytest
from pybtex.database import parse_file
from pybtex.plugin import find_plugin
from pybtex.style.template import FieldIsMissing

BIB = Path(__file__).resolve().parents[1]/'book'/'references.bib'


def test_every_entry_formats():
    entries = parse_file(str(BIB)).entries
    style = find_plugin('pybtex.style.formatting', 'unsrt')()
    missing = []
    for key, entry in entries.items():
        try: style.format_entry(key, entry)
        except FieldIsMissing as e: missing.append(f"{key}: {e}")
    assert not missing, missing


def test_a_missing_booktitle_is_caught():
    from pybtex.database import parse_string
    bad = parse_string("@inproceedings{x, author = {A, B}, title = {T}, year = {2020}}", 'bibtex').entries['x']
    with pytest.raises(FieldIsMissing): find_plugin('pybtex.style.formatting', 'unsrt')().format_entry('x', bad)


ROOT = BIB.parents[1]
CITE = re.compile(r'(?<!`)\{cite(?::[a-z]+)?\}`([^`\s][^`]*)`')   # not a role quoted as code: `{cite}`


def cited_keys(text: str) -> set[str]:
    "The bibliography keys of every {cite}`a,b` / {cite:p}`a` / {cite:t}`a` role in a text."
    return {k.strip() for m in CITE.finditer(text) for k in m[1].split(',') if k.strip()}


def test_cited_keys_parse():
    assert cited_keys("see {cite}`a2020x` and {cite:p}`b, c` or {cite:t}`d`; not `e`, nor the role quoted: `{cite}` from `f`") == {"a2020x", "b", "c", "d"}


def test_every_cited_key_is_in_the_bibliography():
    "A key the book cites but the bibliography lacks is a build warning, hence an error of `make book`: catch it here."
    keys = set(parse_file(str(BIB)).entries)
    sources = [*sorted((ROOT/'nbs').rglob('*.ipynb')), *sorted((ROOT/'book').glob('*.md'))]
    missing = {f"{p.relative_to(ROOT)}: {k}" for p in sources for k in cited_keys(p.read_text(encoding='utf-8')) - keys}
    assert not missing, sorted(missing)
