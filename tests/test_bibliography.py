"""Every entry of the book's bibliography formats without a missing field: the book builds with warnings as errors, and
pybtex (what sphinxcontrib-bibtex formats with) warns about a missing required field, e.g. an @inproceedings without
booktitle."""
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
