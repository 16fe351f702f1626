"""CLIP-ReID in the paper's configuration: CLIP ViT-B/16 at 256x128 with random weights saved and loaded as a user's file
would be, SIE and overlapping patches as the official SIE-OLP run, both stages for two steps on CPU."""
import math

import pytest
import torch

from reidbook.engine import Trainer
from reidbook.methods.clipreid import CLIPReIDConfig, freeze_for_stage1, freeze_for_stage2, stage1_loader


@pytest.fixture(scope='module')
def vit_file(vit_b16_file):
    return vit_b16_file((256, 128))


def test_paper_config_both_stages(vit_file, tmp_path, preset='official'):
    "The official preset (its loss conventions on top of the paper's schedules), with SIE and overlapping patches."
    cfg = CLIPReIDConfig.preset(preset, data_root=str(tmp_path), pretrained=str(vit_file), sie=True, sie_coe=1.0, stride=12)
    model = cfg.build(num_classes=3, num_cameras=6, weights=str(vit_file))
    assert model.clip.grid_size == (21, 10) and model.clip.sie_embed.shape == (6, 768) and model.depth == 12
    assert model.preprocess.norm == ('half' if preset == 'official' else 'clip')
    loss1, loss2 = cfg.objectives()
    feats, labels = torch.randn(8, 512), torch.tensor([0, 0, 1, 1, 2, 2, 0, 1])   # stage 1 reads cached features
    freeze_for_stage1(model)
    tc1 = cfg.stage1_config(); tc1.device, tc1.progress, tc1.epochs, tc1.warmup_epochs = 'cpu', False, 1, 0
    fit1 = Trainer(model, loss1, stage1_loader(feats, labels, batch_size=4), tc1, run_dir=tmp_path/'s1').fit()
    assert fit1['steps'] == 2 and all(math.isfinite(v) for v in fit1['losses'].values())
    freeze_for_stage2(model)
    assert model.text_bank.shape == (3, 512) and not model.prompts.ctx.requires_grad
    pid = torch.tensor([0, 0, 1, 1])
    batches = [{'image': torch.randn(4, 3, 256, 128), 'pid': pid, 'camid': torch.tensor([0, 1, 2, 3])} for _ in range(2)]
    tc2 = cfg.stage2_config(); tc2.device, tc2.progress, tc2.epochs, tc2.warmup_epochs, tc2.milestones = 'cpu', False, 1, 0, ()
    tc2.schedule = 'cosine'
    fit2 = Trainer(model, loss2, batches, tc2, loss_weights=loss2.loss_weights(), run_dir=tmp_path/'s2').fit()
    assert fit2['steps'] == 2 and set(fit2['losses']) >= {'id', 'id_proj', 'tri_x11', 'tri_x12', 'tri_proj', 'i2t'}
    assert all(math.isfinite(v) for v in fit2['losses'].values())
    with torch.no_grad():
        f = model.eval().embed(torch.randn(2, 3, 256, 128))['feat']
    assert f.shape == (2, 768 + 512) and torch.allclose(f.norm(dim=1), torch.ones(2), atol=1e-5)
