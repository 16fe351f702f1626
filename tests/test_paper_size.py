"""Paper configurations cannot rot: ViT-B/16 CLIP at 256x128 (UNIReID / CLIP-ReID) and ResNet-50 at 288x144 (OTLA),
random weights, two training steps at batch 2 on CPU through the Trainer (the ResNet run also checkpoints; the CLIP
checkpoint with its Adam state would be 1.8 GB of disk writes for nothing the ResNet run does not already cover)."""
import time

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from reidbook.backbones import build_clip, build_resnet
from reidbook.engine import Trainer, TrainConfig, make_loader
from reidbook.losses import ce_label_smooth, infonce


def _train_two_steps(model: nn.Module, loss_fn, data: TensorDataset, cfg: TrainConfig, run_dir) -> tuple[dict, float]:
    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    t0 = time.perf_counter()
    results = Trainer(model, loss_fn, make_loader(data, 2, seed=0), cfg, run_dir=run_dir).fit()
    seconds = time.perf_counter() - t0
    assert results['completed'] and results['steps'] == 2
    assert all(torch.isfinite(torch.tensor(v)) for v in results['losses'].values()), results['losses']
    moved = [n for n, p in model.named_parameters() if n in before and not torch.equal(p, before[n])]
    assert len(moved) > 0.9 * len(before), f"only {len(moved)}/{len(before)} parameters were updated"
    assert (run_dir/'checkpoint.pt').is_file() == bool(cfg.checkpoint_every) and (run_dir/'results.json').is_file()
    return results, seconds


class ClipReid(nn.Module):
    "CLIP ViT-B/16 with an identity classifier on the projected CLS (CLIP-ReID stage 2 / UNIReID in miniature)."
    def __init__(self, num_ids: int):
        super().__init__()
        self.clip = build_clip('ViT-B-16', image_size=(256, 128))
        self.classifier = nn.Linear(self.clip.embed_dim, num_ids, bias=False)


def clip_loss(model: ClipReid, batch) -> dict:
    images, labels, ids = batch
    feats = model.clip.forward_features(images, blocks=(11, 12))
    text = model.clip.encode_text(ids)
    return {'id': ce_label_smooth(model.classifier(feats['global']), labels),
            'itc': infonce(feats['global'], text, model.clip.clip.logit_scale.exp())}


def test_vit_b16_256x128_two_steps(tmp_path):
    torch.manual_seed(0)
    model = ClipReid(num_ids=4)
    assert model.clip.grid_size == (16, 8)  # 128 patches + CLS, as CLIP-ReID
    ids = model.clip.tokenize(['a man in a red shirt', 'a woman with a backpack', 'a person in black', 'a child'])
    data = TensorDataset(torch.randn(4, 3, 256, 128), torch.arange(4), ids)
    # UNIReID's recipe (methods-reference §1): Adam lr 1e-5, eps 1e-3, wd 4e-5; biases x2 without decay; heads x5.
    cfg = TrainConfig(epochs=1, lr=1e-5, optimizer='adam', eps=1e-3, weight_decay=4e-5,
                      param_rules=[('bias', 2., 0.), ('classifier', 5., None)], checkpoint_every=0, progress=False)
    results, seconds = _train_two_steps(model, clip_loss, data, cfg, tmp_path)
    print(f"\nViT-B/16 256x128, 2 steps at batch 2 on CPU: {seconds:.1f} s, losses {results['losses']}")


class ResnetReid(nn.Module):
    "OTLA's network shape: ResNet-50, last stride 1, BN-necks on all five levels, bias-free classifier."
    def __init__(self, num_ids: int):
        super().__init__()
        self.backbone = build_resnet(50, last_stride=1, streams=2, shared_from=1, bnneck_levels=(0, 1, 2, 3, 4))
        self.classifier = nn.Linear(2048, num_ids, bias=False)


def resnet_loss(model: ResnetReid, batch) -> dict:
    images, labels, modality = batch
    out = model.backbone(images, modality)
    return {'id': ce_label_smooth(model.classifier(out['bn'][4]), labels, eps=0.)}


def test_resnet50_288x144_two_steps(tmp_path):
    torch.manual_seed(0)
    model = ResnetReid(num_ids=4)
    data = TensorDataset(torch.randn(4, 3, 288, 144), torch.arange(4), torch.tensor([0, 1, 0, 1]))
    # OTLA's recipe (methods-reference §2): Adam wd 5e-4, lr 0.0035 for the heads and 0.1x for the backbone.
    cfg = TrainConfig(epochs=1, lr=0.0035, optimizer='adam', weight_decay=5e-4, param_rules=[('backbone', 0.1, None)],
                      progress=False)
    results, seconds = _train_two_steps(model, resnet_loss, data, cfg, tmp_path)
    print(f"\nResNet-50 288x144, 2 steps at batch 2 on CPU: {seconds:.1f} s, losses {results['losses']}")
