"""OTLA in the paper's configuration: ResNet-50 (random weights), 288x144 images, two training steps on CPU."""
import math

import torch

from reidbook.engine import Trainer
from reidbook.methods.otla import OTLALoss, build_otla, train_config


def test_otla_resnet50_paper_config_two_steps(tmp_path):
    torch.manual_seed(0)
    model = build_otla(num_classes=6, depth=50)  # the official network, random weights
    assert sum(model.backbone.dims) == 3904 and model.discriminator.mlp[0].in_features == 3904
    assert model.discriminator.mlp[0].out_features == 1952 and model.classifier.in_features == 2048
    pid = torch.tensor([0, 0, 1, 1])  # P = 2 identities x K = 2 images per modality
    unknown = torch.full((4,), -1)  # IR identities are unknown to OTLA: its IR terms use the RGB partners' labels
    batches = [({'image': torch.randn(4, 3, 288, 144), 'pid': pid}, {'image': torch.randn(4, 3, 288, 144), 'pid': unknown})
               for _ in range(2)]
    objective = OTLALoss()
    trainer = Trainer(model, objective, batches, train_config(1, warmup_epochs=0, device='cpu', progress=False,
                                                              checkpoint_every=0),
                      loss_weights=objective.loss_weights(), run_dir=tmp_path)
    fit = trainer.fit()
    assert fit['steps'] == 2 and objective.iteration == 2
    assert set(fit['losses']) >= {'ce_rgb', 'tri_rgb', 'ce_ir', 'tri_ir', 'dis', 'pa_vr', 'pa_rv', 'loss'}
    assert all(math.isfinite(v) for v in fit['losses'].values())
    with torch.no_grad():
        out = model.eval()(torch.randn(2, 3, 288, 144), 1)
    assert out['feat'].shape == (2, 2048) and out['multi'].shape == (2, 3904)
