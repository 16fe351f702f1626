"""OLTM and BDG in the paper's configuration: CLIP ViT-B/16 (and BDG's two-stream ResNet-50 with ViT-B/16's text tower),
random weights saved and loaded as a user's files would be, 288x144 images, two training steps on CPU."""
import math

import pytest
import torch
import torchvision

from reidbook.backbones import build_clip
from reidbook.engine import Trainer
from reidbook.methods.oltm import BDG, OLTM, OLTMConfig

ANSWERS = [{'gender': g, 'upper_colour': u, 'lower_colour': l, 'bag': b} for g, u, l, b in
           [('male', 'red', 'blue', 'none'), ('female', 'black', 'grey', 'backpack'), ('male', 'white', 'black', 'handbag')]]


def batches(n_steps=2):
    pid = torch.tensor([0, 0, 1, 1, 2, 2])   # P = 3 identities x K = 2 photo-sketch pairs
    return [({'image': torch.randn(6, 3, 288, 144), 'pid': pid, 'index': pid}, {'image': torch.randn(6, 3, 288, 144), 'pid': pid})
            for _ in range(n_steps)]


@pytest.fixture(scope='module')
def vit_file(vit_b16_file):
    return vit_b16_file((288, 144))


@pytest.mark.parametrize('model', ['oltm', 'bdg'])
def test_paper_config_two_steps(model, vit_file, tmp_path):
    resnet = None
    if model == 'bdg':
        resnet = tmp_path/'resnet50.pth'
        torch.save(torchvision.models.resnet50(weights=None).state_dict(), resnet)   # torchvision's file layout
    cfg = OLTMConfig.preset('paper', model=model, data_root=str(tmp_path), pretrained=str(vit_file),
                            resnet_pretrained=str(resnet or ''), metric='wrt' if model == 'bdg' else 'tal')
    assert (cfg.backbone, cfg.image_size, cfg.vqa_keep, cfg.depth) == ('ViT-B-16', (288, 144), 'all', 50)
    clip = build_clip(cfg.backbone, pretrained=vit_file, image_size=cfg.image_size)
    net = cfg.build(3, list(ANSWERS[0]), clip, resnet)
    assert isinstance(net, BDG if model == 'bdg' else OLTM)
    if model == 'bdg': assert net.backbone.dims[4] == 2048 and net.mask.grid == (18, 9)   # the official 18 x 9 maps
    objective = cfg.objective(ANSWERS)
    tc = cfg.train_config(); tc.device, tc.progress, tc.epochs = 'cpu', False, 1
    fit = Trainer(net, objective, batches(), tc, loss_weights=objective.loss_weights(), run_dir=tmp_path/'train').fit()
    assert fit['steps'] == 2 and all(math.isfinite(v) for v in fit['losses'].values())
    assert set(fit['losses']) >= ({'id', 'metric', 'align'} if model == 'bdg' else {'id', 'id_text', 'metric', 'metric_text'})
    with torch.no_grad():
        f = net.eval().embed(torch.randn(2, 3, 288, 144), 'sketch')['feat']
    assert f.shape == (2, 2048 if model == 'bdg' else 512) and torch.allclose(f.norm(dim=1), torch.ones(2), atol=1e-5)


def test_paper_size_on_the_readers_batches(world, vit_file, tmp_path):
    "OLTM at the paper's size for two steps on what the Market-Sketch-1K reader and the training loader make of a real-format folder."
    from reidbook.data import load_dataset
    from reidbook.methods.dalnet import photos_and_sketches, train_loader
    from reidbook.methods.oltm import camera_scenes, training_attributes
    root, _ = world   # the tiny SynthPed world's Market-Sketch-1K folder, laid out as the real dataset
    photos, sketches = photos_and_sketches(load_dataset('mask1k', root).train)
    keys = ['gender', 'upper_colour', 'lower_colour']
    by_path = training_attributes(photos, 'handcrafted', keys, scenes=camera_scenes('mask1k', 'tiny'))
    cfg = OLTMConfig.preset('paper', data_root=str(root), pretrained=str(vit_file))
    net = cfg.build(len({r.pid for r in photos}), keys, build_clip(cfg.backbone, pretrained=vit_file, image_size=cfg.image_size))
    objective = cfg.objective([by_path[r.path] for r in photos])
    loader = train_loader(photos, sketches, net.preprocess, p=2, k=2, steps_per_epoch=2, pad=cfg.pad, cache=False)
    batch = next(iter(loader))
    assert batch[0]['image'].shape == (4, 3, 288, 144) and torch.equal(batch[0]['pid'], batch[1]['pid'])
    tc = cfg.train_config(); tc.device, tc.progress, tc.epochs = 'cpu', False, 1
    fit = Trainer(net, objective, loader, tc, loss_weights=objective.loss_weights(), run_dir=tmp_path/'train').fit()
    assert fit['steps'] == 2 and all(math.isfinite(v) for v in fit['losses'].values())
