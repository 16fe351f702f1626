"""MMPL in the paper's configuration: CLIP ViT-B/16 at 256x128 with random weights saved and loaded as a user's file
would be; three levels of 16, 64 and 128 patches keeping 10, 40 and 80; ISA, PTA over every identity and CPL; both
stages for two steps on CPU."""
import math

import pytest
import torch

from reidbook.engine import Trainer
from reidbook.methods.clipreid import freeze_for_stage1, freeze_for_stage2, stage1_loader
from reidbook.methods.mmpl import (MMPLConfig, SelectorAgent, kept_patches, pool_patches,
                                   train_selector)


@pytest.fixture(scope='module')
def vit_file(vit_b16_file):
    return vit_b16_file((256, 128))


def test_paper_config_both_stages(vit_file, tmp_path):
    cfg = MMPLConfig.preset('paper', data_root=str(tmp_path), pretrained=str(vit_file))
    model = cfg.build(num_classes=4, num_cameras=6, weights=str(vit_file))
    assert model.clip.grid_size == (16, 8) and model.levels == 3 and model.visual_prompts.levels == 3
    assert [p.ctx.shape[1:] for p in model.level_prompts] == [(4, 512), (6, 512), (8, 512)]
    images, labels = torch.randn(8, 3, 256, 128), torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    with torch.no_grad(): out = model.clip.forward_features(images)   # stage 1's cache, as `mmpl_stage1_inputs` makes it
    patches = [pool_patches(out['tokens'], model.clip.grid_size, c) for c in cfg.cells]
    assert [p.shape[1:] for p in patches] == [(16, 512), (64, 512), (128, 512)]
    agents = torch.nn.ModuleList([SelectorAgent(512, cfg.isa_hidden) for _ in cfg.cells])
    tci = cfg.isa_config(); tci.device, tci.progress, tci.epochs = 'cpu', False, 1
    fit_isa = train_selector(agents, patches, cfg.keep, tci, cfg.isa_episodes, cfg.isa_gamma, batch_size=4, run_dir=tmp_path/'isa')
    assert fit_isa['steps'] == 2 and all(math.isfinite(v) for v in fit_isa['losses'].values())
    kept, _ = kept_patches(patches, cfg.keep, agents=agents)
    assert [k.shape[1] for k in kept] == [10, 40, 80]
    loss1, loss2 = cfg.objectives()
    freeze_for_stage1(model)
    tc1 = cfg.stage1_config(); tc1.device, tc1.progress, tc1.epochs, tc1.warmup_epochs = 'cpu', False, 1, 0
    loader = stage1_loader(out['global'], labels, batch_size=4, extra={f'patches_{k}': p for k, p in enumerate(kept)})
    fit1 = Trainer(model, loss1, loader, tc1, loss_weights=loss1.loss_weights(), run_dir=tmp_path/'s1').fit()
    assert fit1['steps'] == 2 and {'otce_0', 'otce_2', 'i2t_1', 't2i_2'} <= set(fit1['losses'])
    assert all(math.isfinite(v) for v in fit1['losses'].values()) and loss1.ot_seconds > 0
    freeze_for_stage2(model)
    assert model.text_banks.shape == (3, 4, 512) and not model.level_prompts[2].ctx.requires_grad
    batches = [{'image': torch.randn(4, 3, 256, 128), 'pid': torch.tensor([0, 0, 1, 1])} for _ in range(2)]
    tc2 = cfg.stage2_config(); tc2.device, tc2.progress, tc2.epochs, tc2.warmup_epochs, tc2.milestones = 'cpu', False, 1, 0, ()
    tc2.schedule = 'cosine'
    fit2 = Trainer(model, loss2, batches, tc2, loss_weights=loss2.loss_weights(), run_dir=tmp_path/'s2').fit()
    assert fit2['steps'] == 2 and set(fit2['losses']) >= {'id', 'tri_proj', 'i2t', 'tr'}
    assert all(math.isfinite(v) for v in fit2['losses'].values())
    with torch.no_grad():
        f = model.eval().embed(torch.randn(2, 3, 256, 128))['feat']
    assert f.shape == (2, 768 + 512) and torch.allclose(f.norm(dim=1), torch.ones(2), atol=1e-5)
