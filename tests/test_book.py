"""Build a small book (intro, OT and UNIReID chapters, one executed run, references) and look at it in headless
Chromium: no error output, directives hidden, equations typeset by the bundled MathJax, citations that resolve."""
import re, subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import pytest

from conftest import ROOT, chromium_or_skip
from reidbook.book import build_book, check_pages
from reidbook.cli import run_experiment
from reidbook.experiment import RunSpec, suite_runs

CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync',
                  '--hide-scrollbars', '--virtual-time-budget=5000']


class _Page(HTMLParser):
    "Collects what a reader sees: headings, images, tables, links, visible text, and any error output."
    def __init__(self):
        super().__init__(); self.tags, self.classes, self.h1, self.links, self.visible = [], [], [], [], []
        self._in_h1, self._hidden = False, 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag); self.classes += (a.get('class') or '').split()
        self._in_h1 = self._in_h1 or tag == 'h1'
        if tag in ('script', 'style'): self._hidden += 1
        if tag == 'a' and a.get('href'): self.links.append((a['href'], a.get('class') or ''))
    def handle_endtag(self, tag):
        if tag == 'h1': self._in_h1 = False
        if tag in ('script', 'style'): self._hidden -= 1
    def handle_data(self, data):
        if self._in_h1 and data.strip(): self.h1.append(data.strip())
        if not self._hidden: self.visible.append(data)


def _render(chromium: str, page, tmp_path, screenshot=None) -> _Page:
    profile = tmp_path/'chromium-profile'
    args = [chromium, *CHROMIUM_FLAGS, f'--user-data-dir={profile}']
    dom = subprocess.run(args + ['--dump-dom', page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0 and '<html' in dom.stdout, dom.stderr[-2000:]
    if screenshot:
        subprocess.run(args + ['--window-size=1280,1600', f'--screenshot={screenshot}', page.as_uri()],
                       capture_output=True, timeout=120, check=True)
        assert screenshot.stat().st_size > 10_000
    p = _Page(); p.feed(dom.stdout); p.text = dom.stdout
    return p


def _no_error_output(p: _Page):
    assert 'Traceback' not in p.text
    assert not {'traceback', 'output_error'} & set(p.classes)
    assert 'stderr' not in ' '.join(c for c in p.classes if c.startswith('output'))


def test_every_page_run_of_every_suite_is_in_the_toc():
    for suite in ('default', 'full'): check_pages(suite_runs(suite), ROOT/'_toc.yml')


def _typeset(page: _Page):
    "MathJax ran: math elements exist and no raw TeX delimiters are left in the visible text."
    text = ''.join(page.visible)
    assert 'mjx-container' in page.tags, 'no MathJax output on the page'
    assert '\\(' not in text and '\\[' not in text, re.findall(r'.{40}\\\(.{40}', text)[:3]


def test_book_builds_and_renders_in_chromium(tmp_path, monkeypatch):
    chromium = chromium_or_skip()
    monkeypatch.delenv('REIDBOOK_RUNS', raising=False)   # the toc's run page lives in the checkout's runs/
    run_experiment(RunSpec('ot_benchmark', 'smoke', 'smoke'), progress=False)
    html = build_book(ROOT, toc=ROOT/'tests'/'book_smoke_toc.yml')
    assert (html/'_static'/'mathjax'/'tex-chtml.js').is_file()
    assert 'cdn.jsdelivr' not in (html/'nbs'/'01_ot.html').read_text()   # MathJax comes with the book
    index = html/'index.html'
    intro = _render(chromium, index, tmp_path, screenshot=ROOT/'_build'/'index.png')
    assert intro.h1 and 'reidbook' in intro.h1[0] and 'table' in intro.tags
    _no_error_output(intro)
    ot = _render(chromium, html/'nbs'/'01_ot.html', tmp_path, screenshot=ROOT/'_build'/'ot_chapter.png')
    assert ot.h1 and ot.tags.count('img') >= 1 and 'table' in ot.tags
    assert '#|' not in ot.text  # nbdev directives are hidden from rendered code
    _no_error_output(ot)
    _typeset(ot)
    cites = [h for h, cls in ot.links if 'references.html#' in h]
    assert cites, 'the OT chapter cites nothing'
    target = urlparse(cites[0])
    ref_page = (html/'nbs'/target.path).resolve()
    assert ref_page.is_file() and f'id="{target.fragment}"' in ref_page.read_text()     # the citation link resolves
    unireid = _render(chromium, html/'nbs'/'10_unireid.html', tmp_path)
    _no_error_output(unireid)
    _typeset(unireid)
    run = _render(chromium, html/'runs'/'ot_benchmark'/'smoke.html', tmp_path)
    assert run.h1 and ('table' in run.tags or 'img' in run.tags)
    _no_error_output(run)
