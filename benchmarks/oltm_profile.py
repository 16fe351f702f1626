"""Per-component CPU profile of one OLTM / BDG training step in the embedded config (one torch thread).

Builds the model, objective and loader exactly as nbs/runs/oltm.ipynb does (OLTMConfig.preset, cfg.build, cfg.objective,
train_loader, Trainer), then
  * times whole `Trainer.train_step`s (s/step, after warm-up, data loading excluded and reported apart);
  * profiles a few steps with torch.profiler, forward components marked with `record_function` (method wrappers,
    nothing in the package is changed), and lists the top ops;
  * times each component alone, forward + backward (sum of its outputs), on the same batch.

usage: OMP_NUM_THREADS=1 python benchmarks/oltm_profile.py [--model oltm|bdg] [--steps N] [-p field value ...]
"""
import argparse, json, sys, time, tempfile
from pathlib import Path
import torch
from torch.profiler import profile, record_function, ProfilerActivity

ap = argparse.ArgumentParser()
ap.add_argument('--model', default='oltm')
ap.add_argument('--steps', type=int, default=5)
ap.add_argument('--warmup', type=int, default=2)
ap.add_argument('--no-profile', action='store_true')
ap.add_argument('--json', default='')
ap.add_argument('-p', nargs=2, action='append', default=[], metavar=('FIELD', 'VALUE'))
args = ap.parse_args()
torch.set_num_threads(1)

from reidbook.backbones import build_clip
from reidbook.core import seed_everything
from reidbook.data import load_dataset
from reidbook.engine import Trainer
from reidbook.experiment import config_class
from reidbook.methods.dalnet import photos_and_sketches, train_loader
from reidbook.methods.oltm import (OLTM_CHOICES, OLTM_QUESTIONS, ClipVQA, camera_scenes, file_digest, handcrafted_attributes,
                                   informative_questions, vqa_attributes)
from reidbook.pretrain import attribute_accuracy, ensure_pretrained_clip
from reidbook.synth import ensure_world
from reidbook.core import checkpoints_dir

cls = config_class('oltm')
over = {'model': args.model}
for k, v in args.p:
    try: over[k] = json.loads(v)
    except json.JSONDecodeError: over[k] = v
if 'image_size' in over: over['image_size'] = tuple(over['image_size'])
cfg = cls.preset('embedded', **over)
print('config changes:', cfg.changes(), flush=True)

# --- the template's data path
root = ensure_world(cfg.world_scale, formats=['mask1k'], progress=False)
dataset = load_dataset('mask1k', root)
photos, sketches = photos_and_sketches(dataset.train)
weights = ensure_pretrained_clip(progress=False)
seed_everything(cfg.seed)
clip = build_clip(cfg.backbone, pretrained=weights, image_size=cfg.image_size)
scenes = camera_scenes('mask1k', cfg.world_scale, 0)
if cfg.attributes == 'vqa':
    tag = '' if cfg.world_scale == 'default' else '-' + cfg.world_scale
    vqa = vqa_attributes([r.path for r in photos], ClipVQA(clip, fingerprint=file_digest(weights)),
                         cache=checkpoints_dir()/f'oltm-vqa-mask1k{tag}.json', size=cfg.image_size)
    by_path = vqa['answers']
    truth = handcrafted_attributes(photos, scenes)
    report = attribute_accuracy({q: [by_path[r.path][q] for r in photos] for q in OLTM_QUESTIONS},
                                [truth[r.path] for r in photos], OLTM_CHOICES)
    keys, _ = informative_questions(report) if cfg.vqa_keep == 'informative' else (list(OLTM_QUESTIONS), None)
else: by_path, keys = handcrafted_attributes(photos, scenes), list(OLTM_QUESTIONS)
answers = [{k: by_path[r.path][k] for k in keys} for r in photos]
print('keys', keys, '; distinct attribute sets over the training photos:', len({tuple(a.values()) for a in answers}), flush=True)

seed_everything(cfg.seed)
model = cfg.build(len({r.pid for r in photos}), keys, clip, None)
objective = cfg.objective(answers)
loader = train_loader(photos, sketches, model.preprocess, cfg.p, cfg.k, cfg.seed, cfg.workers, cfg.steps_per_epoch or None,
                      pad=cfg.pad, cache=cfg.cache_images)
trainer = Trainer(model, objective, loader, cfg.train_config(), loss_weights=objective.loss_weights(),
                  run_dir=tempfile.mkdtemp(prefix='oltm-prof-'), resume=False)
model.train()
batches, data_t = [], []
it = iter(loader)
for _ in range(args.warmup + args.steps):
    t = time.perf_counter(); batches.append(next(it)); data_t.append(time.perf_counter() - t)
if args.model == 'oltm':
    ids = [photos_b['index'].tolist() for photos_b, _ in batches]
    print('distinct attribute sets per batch:', [len({tuple(answers[i].values()) for i in b}) for b in ids], flush=True)

# --- whole steps
for b in batches[:args.warmup]: trainer.train_step(b)
step_t = []
for b in batches[args.warmup:]:
    t = time.perf_counter(); trainer.train_step(b); step_t.append(time.perf_counter() - t)
res = {'model': args.model, 'changes': {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.changes().items()},
       's_per_step': sorted(step_t)[len(step_t) // 2], 'step_times': step_t,
       'data_s_per_batch': sum(data_t[1:]) / max(1, len(data_t) - 1)}
print(f"{args.model}: train_step median {res['s_per_step']:.3f} s (all {[round(s, 3) for s in step_t]}), "
      f"data {res['data_s_per_batch']:.3f} s/batch", flush=True)

# --- forward components marked by wrappers
def mark(obj, name, label):
    f = getattr(obj, name)
    def g(*a, **k):
        with record_function(label): return f(*a, **k)
    setattr(obj, name, g)

import reidbook.methods.oltm as M
if args.model == 'oltm':
    mark(model.text, 'forward', 'fwd:text (prompts + frozen text encoder)')
    if model.text.prompts is not None: mark(model.text.prompts, 'tokenize', 'fwd:text/tokenize')
    mark(model.clip, 'encode_prompts', 'fwd:text/encoder')
    if model.consensus is not None: mark(model.consensus, 'forward', 'fwd:consensus OT')
    mark(model, 'encode_image', 'fwd:image encoder')
    mark(model, 'inject', 'fwd:TCA+CFI')
    orig_metric = M._metric
    def metric(*a, **k):
        with record_function('loss:metric (TAL)'): return orig_metric(*a, **k)
    M._metric = metric
else:
    mark(model.backbone, 'forward_stages', 'fwd:resnet')
    if model.text is not None:
        mark(model.text, 'encode_text', 'fwd:text encoder (trainable)')
    orig_align = M.attr_align_loss
    def align(*a, **k):
        with record_function('loss:attr_align'): return orig_align(*a, **k)
    M.attr_align_loss = align
    orig_wrt = M.triplet_wrt
    def wrt(*a, **k):
        with record_function('loss:metric (WRT)'): return orig_wrt(*a, **k)
    M.triplet_wrt = wrt

def marked_step(b):
    with record_function('step:forward+loss'):
        b2 = b
        terms = trainer.module(b2)
        total = trainer._total(terms)
    trainer.optimizer.zero_grad(set_to_none=True)
    with record_function('step:backward'): total.backward()
    with record_function('step:optimizer'): trainer.optimizer.step()

if not args.no_profile:
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for b in batches[args.warmup:]: marked_step(b)
    ev = {e.key: e for e in prof.key_averages()}
    n = len(batches) - args.warmup
    comp = {k: ev[k].cpu_time_total / 1e6 / n for k in ev if k.split(':')[0] in ('step', 'fwd', 'loss')}
    print('\ncomponents (s per step, inclusive CPU time, profiler on):')
    for k, v in sorted(comp.items(), key=lambda kv: -kv[1]): print(f"  {v:8.3f}  {k}")
    res['profile'] = comp
    print('\ntop ops by self CPU time (s per step):')
    top = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)[:18]
    for e in top: print(f"  {e.self_cpu_time_total / 1e6 / n:8.3f}  {e.count // n:6d}x  {e.key}")
    res['top_ops'] = {e.key: e.self_cpu_time_total / 1e6 / n for e in top}
    sys.stdout.flush()

# --- components alone, forward + backward (sum of outputs), median of 3
def timed(fn, reps=3):
    ts = []
    for _ in range(reps):
        model.zero_grad(set_to_none=True)
        t = time.perf_counter(); out = fn(); s = sum(o.float().sum() for o in ([out] if isinstance(out, torch.Tensor) else out))
        t1 = time.perf_counter(); s.backward(); t2 = time.perf_counter()
        ts.append((t1 - t, t2 - t1))
    ts.sort(key=sum)
    return ts[len(ts) // 2]

b = batches[-1]
ph, sk = b
alone = {}
if args.model == 'oltm':
    ans = [answers[i] for i in ph['index'].tolist()]
    text = lambda: model.text(model.clip, ans)
    alone['text'] = timed(lambda: [x for x in text() if x.is_floating_point()])
    if model.consensus is not None:
        t0 = text()
        loc, msk = t0.local.detach().requires_grad_(), t0.mask
        alone['consensus OT'] = timed(lambda: list(model.consensus(loc, msk)))
    alone['image encoder (photos+sketches)'] = timed(lambda: list(model.encode_image(torch.cat([ph['image'], sk['image']])).values()))
    alone['whole loss'] = timed(lambda: trainer._total(objective(model, b)))
else:
    alone['resnet (photos+sketches)'] = timed(lambda: model.backbone.forward_stages(torch.cat([ph['image'], sk['image']]),
                                               torch.cat([torch.zeros(len(ph['image']), dtype=torch.long), torch.ones(len(sk['image']), dtype=torch.long)]))[4])
    if model.text is not None:
        sents = [objective.sentences[i] for i in ph['index'].tolist()]
        alone['text encoder'] = timed(lambda: model.text.encode_text(model.text.tokenize(sents)))
    alone['whole loss'] = timed(lambda: trainer._total(objective(model, b)))
print('\ncomponents alone (forward s, backward s):')
for k, (f, bw) in alone.items(): print(f"  {f:7.3f} {bw:7.3f}  {k}")
res['alone'] = alone
if args.json: Path(args.json).write_text(json.dumps(res, indent=1))
