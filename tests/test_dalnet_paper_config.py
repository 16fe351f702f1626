"""DALNet in the paper's configuration: three-stream ResNet-50 and a full U^2-Net (random weights, saved and loaded as a
user's files would be), 288x144 images, two training steps on CPU."""
import math

import torch

from reidbook.backbones import build_u2net
from reidbook.engine import Trainer
from reidbook.methods.dalnet import DALNetConfig, build_dalnet, saliency_masker


def test_dalnet_resnet50_paper_config_two_steps(tmp_path):
    torch.manual_seed(0)
    torch.save(build_u2net(small=False).state_dict(), tmp_path/'u2net.pth')   # the released file's layout
    masker = saliency_masker(tmp_path/'u2net.pth')
    assert masker.size == (320, 320) and masker.minmax and sum(p.numel() for p in masker.parameters()) == 44_009_869
    cfg = DALNetConfig.preset('paper', data_root=str(tmp_path), pretrained='', saliency_weights=str(tmp_path/'u2net.pth'))
    assert (cfg.depth, cfg.image_size, cfg.epochs, cfg.lr, cfg.weight_decay) == (50, (288, 144), 100, 4.5e-4, 0.02)
    model = build_dalnet(3, depth=50, saliency=masker, image_size=cfg.image_size)
    assert model.backbone.dims[4] == 2048 and model.style_head.in_features == 256   # layer1 of ResNet-50: 256 channels
    pid = torch.tensor([0, 0, 1, 1, 2, 2])   # P = 3 identities x K = 2 photo-sketch pairs
    batches = [({'image': torch.randn(6, 3, 288, 144), 'pid': pid}, {'image': torch.randn(6, 3, 288, 144), 'pid': pid})
               for _ in range(2)]
    objective = cfg.objective()
    tc = cfg.train_config(); tc.device, tc.progress, tc.epochs = 'cpu', False, 1
    kernel = model.generator.edge.weight.detach().clone()
    fit = Trainer(model, objective, batches, tc, loss_weights=objective.loss_weights(), run_dir=tmp_path/'train').fit()
    assert fit['steps'] == 2 and all(math.isfinite(v) for v in fit['losses'].values())
    assert set(fit['losses']) >= {'id', 'id_hat', 'cm_as', 'cm_ap', 'cm_ps', 'im_s', 'im_a', 'im_p', 'sr', 'loss'}
    assert not torch.equal(kernel, model.generator.edge.weight)   # G_j: the generator is trained
    with torch.no_grad():
        f = model.eval().embed(torch.randn(2, 3, 288, 144), 'sketch')['feat']
    assert f.shape == (2, 2048)
