"Build the book (intro, OT chapter, one executed run) and look at it in headless Chromium."
import subprocess
from html.parser import HTMLParser

import pytest

from conftest import ROOT, chromium_or_skip
from reidbook.book import build_book, load_manifest
from reidbook.cli import run_experiment

CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync',
                  '--hide-scrollbars', '--virtual-time-budget=5000']


class _Page(HTMLParser):
    "Collects what a reader sees: headings, images, tables, and any error output."
    def __init__(self):
        super().__init__(); self.tags, self.classes, self.h1 = [], [], []; self._in_h1 = False
    def handle_starttag(self, tag, attrs):
        self.tags.append(tag); self.classes += (dict(attrs).get('class') or '').split()
        self._in_h1 = self._in_h1 or tag == 'h1'
    def handle_endtag(self, tag):
        if tag == 'h1': self._in_h1 = False
    def handle_data(self, data):
        if self._in_h1 and data.strip(): self.h1.append(data.strip())


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


def test_every_manifest_page_is_in_the_toc():
    toc = (ROOT/'_toc.yml').read_text()
    runs = load_manifest(ROOT/'book'/'manifest.yml')
    for r in runs:
        assert (f"runs/{r['experiment']}/{r['name']}\n" in toc) == r['page'], r   # pages listed, data-only runs not


def test_book_builds_and_renders_in_chromium(tmp_path):
    chromium = chromium_or_skip()
    run_experiment('ot_benchmark', {}, 'smoke', progress=False)
    html = build_book(ROOT, toc=ROOT/'tests'/'book_smoke_toc.yml')
    index = html/'index.html'
    intro = _render(chromium, index, tmp_path, screenshot=ROOT/'_build'/'index.png')
    assert intro.h1 and 'reidbook' in intro.h1[0] and 'table' in intro.tags
    _no_error_output(intro)
    ot = _render(chromium, html/'nbs'/'01_ot.html', tmp_path, screenshot=ROOT/'_build'/'ot_chapter.png')
    assert ot.h1 and ot.tags.count('img') >= 1 and 'table' in ot.tags
    assert '#|' not in ot.text  # nbdev directives are hidden from rendered code
    _no_error_output(ot)
    run = _render(chromium, html/'runs'/'ot_benchmark'/'smoke.html', tmp_path)
    assert run.h1 and ('table' in run.tags or 'img' in run.tags)
    _no_error_output(run)
