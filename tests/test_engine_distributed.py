"`torchrun` data parallelism: 2 CPU processes (gloo) follow the loss curve of 1 process with the same global batch."
import os, runpy, subprocess, sys, textwrap
from pathlib import Path

import pytest
import torch

from conftest import ROOT
from reidbook.engine import read_checkpoint, read_metrics

SCRIPT = textwrap.dedent('''
    import sys
    import torch, torch.nn.functional as F
    from torch import nn
    from torch.utils.data import TensorDataset
    from reidbook.engine import Trainer, TrainConfig, make_loader, init_distributed, finish_distributed

    run_dir, global_batch = sys.argv[1], int(sys.argv[2])
    rank, world = init_distributed()
    g = torch.Generator().manual_seed(0)
    x = torch.randn(96, 8, generator=g)
    y = (x[:, 0] > 0).long() + 2 * (x[:, 1] > 0).long()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 4))
    loss_fn = lambda m, b: {'ce': F.cross_entropy(m(b[0]), b[1]), 'l2': 1e-3 * m[0].weight.pow(2).sum()}
    cfg = TrainConfig(epochs=3, lr=0.2, optimizer='sgd', momentum=0.9, warmup_epochs=1, schedule='cosine',
                      param_rules=[('bias', 2., 0.)], grad_clip=5., log_every=1, progress=False)
    loader = make_loader(TensorDataset(x, y), global_batch // world, seed=1)
    Trainer(model, loss_fn, loader, cfg, evaluate={'train': lambda m: {'acc': (m(x).argmax(1) == y).float().mean()}},
            run_dir=run_dir).fit()
    assert world == int(sys.argv[3]), (world, sys.argv[3])
    finish_distributed()
''')


def _run(cmd: list[str], cwd: Path) -> None:
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(ROOT)}
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"{' '.join(cmd)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-5000:]}"


def test_two_processes_match_one(tmp_path):
    script = tmp_path/'train_tiny.py'
    script.write_text(SCRIPT)
    argv = sys.argv
    try:  # one process: in this interpreter (torch is already imported), no torchrun environment
        sys.argv = [str(script), str(tmp_path/'one'), '16', '1']; runpy.run_path(str(script), run_name='__main__')
    finally: sys.argv = argv
    _run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2',
          str(script), str(tmp_path/'two'), '16', '2'], tmp_path)
    one, two = read_metrics(tmp_path/'one', 'step'), read_metrics(tmp_path/'two', 'step')
    assert len(one) == len(two) == 3 * 96 // 16
    for a, b in zip(one, two):
        assert (a['epoch'], a['step'], a['lr']) == (b['epoch'], b['step'], b['lr'])
        assert a['ce'] == pytest.approx(b['ce'], rel=1e-4, abs=1e-6) and a['l2'] == pytest.approx(b['l2'], rel=1e-4)
    assert one[-1]['ce'] < one[0]['ce']  # it trained
    # Only rank 0 wrote: one log line per step/epoch, one checkpoint; the final weights agree.
    assert len(read_metrics(tmp_path/'two', 'epoch')) == 3 and sorted(p.name for p in (tmp_path/'two').iterdir()) == \
        ['checkpoint.pt', 'metrics.jsonl', 'results.json']
    w1, w2 = (read_checkpoint(tmp_path/d/'checkpoint.pt')['model'] for d in ('one', 'two'))   # weights_only=True
    assert all(torch.allclose(w1[k], w2[k], atol=1e-5) for k in w1)
