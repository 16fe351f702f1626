import os, shutil, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.fixture(scope='session')
def root() -> Path:
    return ROOT


@pytest.fixture(scope='session')
def world(tmp_path_factory) -> tuple[Path, dict]:
    "SynthPed's tiny world (seed 0) in every real format it writes, and its manifest; shared by the test modules."
    from reidbook.synth import synthesize
    out = tmp_path_factory.mktemp('world-seed0')
    return out, synthesize(out=out, scale='tiny', seed=0)


@pytest.fixture(scope='session')
def vit_b16_file(tmp_path_factory):
    "`vit_b16_file((H, W))`: a random-weight CLIP ViT-B/16 saved at that input size as a user's weight file would be (one per size)."
    made = {}
    def make(size: tuple[int, int]) -> Path:
        if size not in made:
            import torch
            from reidbook.backbones import build_clip, save_clip
            torch.manual_seed(0)
            path = tmp_path_factory.mktemp('w')/'ViT-B-16.pt'
            save_clip(build_clip('ViT-B-16', image_size=size), path)
            made[size] = path
        return made[size]
    return make


def reidbook_cmd(*args, **kw) -> subprocess.CompletedProcess:
    "Run the installed `reidbook` console script from the repo root."
    return subprocess.run([str(BIN/'reidbook'), *args], cwd=ROOT, capture_output=True, text=True, **kw)


def chromium_or_skip() -> str:
    "Path of a headless-capable Chromium; skips (or fails when REIDBOOK_REQUIRE_BROWSER is set) if there is none."
    exe = shutil.which('chromium') or shutil.which('chromium-browser')
    if exe: return exe
    msg = "Chromium not found: install Debian's `chromium` package (apt-get install chromium) to run the browser test"
    if os.environ.get('REIDBOOK_REQUIRE_BROWSER'): pytest.fail(msg)
    pytest.skip(msg)
