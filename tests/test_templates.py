"""Every experiment template, run as `reidbook run <experiment> --preset smoke` (seconds, the tiny world), writes the
shared results layout; the OTLA paths its smoke run does not take (unsupervised, RegDB) run too; and a template run
interactively, as JupyterLab runs it (its own defaults, no papermill), writes where and what a papermill run writes."""
import json, re

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import ROOT, reidbook_cmd
from reidbook.experiment import SCHEMA, source_hashes

LAYOUT = {'schema', 'experiment', 'name', 'preset', 'overrides', 'config', 'metrics', 'timings', 'provenance', 'details'}
TASKS = {'pretrain_clip': {'zero-shot T->R, random init', 'zero-shot T->R, pretrained', 'zero-shot S->R, random init', 'zero-shot S->R, pretrained'},
         'unireid': {'T->R', 'S->R', 'T+S->R', 'T->R (original gallery)', 'PKU-Sketch T->R', 'PKU-Sketch S->R', 'PKU-Sketch T+S->R'},
         'otla': {'all', 'indoor'}, 'dalnet': {'S->P', 'S->P multi'},
         'oltm': {'S->P', 'S->P multi'}, 'clipreid': {'Q->G', 'Q->G after stage 1'}, 'mmpl': {'Q->G', 'Q->G after stage 1'}}


@pytest.fixture
def runs(tmp_path, monkeypatch):
    monkeypatch.setenv('REIDBOOK_RUNS', str(tmp_path/'runs'))
    return tmp_path/'runs'


def run(experiment: str, name: str, *args) -> dict:
    r = reidbook_cmd('run', experiment, '--preset', 'smoke', '--name', name, '--quiet', *args)
    assert r.returncode == 0, r.stderr[-3000:]
    path = re.search(r'^results: +(\S+)$', r.stdout, re.M).group(1)
    return json.loads(open(path).read())


def check_layout(res: dict, experiment: str):
    assert set(res) == LAYOUT and res['schema'] == SCHEMA and res['experiment'] == experiment
    assert res['provenance']['sources'] == source_hashes(experiment)
    for task, m in res['metrics'].items():
        if experiment not in ('ot_benchmark', 'saliency'):   # rank tasks: fractions, with the random ranking's R1 beside them
            assert 0 <= m['R1'] <= m.get('R10', 1) <= 1 and 0 < m['chance_R1'] < 1, (task, m)


@pytest.mark.parametrize('experiment', ['pretrain_clip', 'ot_benchmark', 'unireid', 'otla', 'saliency', 'pretrain_resnet', 'dalnet', 'oltm',
                                        'clipreid', 'mmpl'])
def test_smoke_preset(experiment, runs):
    res = run(experiment, 'smoke')
    check_layout(res, experiment)
    if experiment in TASKS: assert set(res['metrics']) == TASKS[experiment]
    if experiment == 'dalnet':   # the learned saliency path: the tiny world's own net, recorded as an input file
        assert set(res['provenance']['inputs']) == {'saliency_weights'} and res['details']['generator']['kernel'][4] != 0
    if experiment == 'oltm':   # random weights, the VQA asked every question (cached in the run folder)
        assert res['provenance']['inputs'] == {} and res['details']['model'] == 'oltm' and len(res['details']['keys']) == 11
        assert res['details']['vqa_seconds'] > 0 and set(res['details']['losses']) >= {'id', 'id_text', 'metric', 'metric_text'}
    if experiment == 'clipreid':   # both stages ran: stage 1's two terms, stage 2's six
        assert set(res['details']['stage1']['losses']) == {'i2t', 't2i', 'loss'} and 'i2t' in res['details']['losses']
    if experiment == 'mmpl':   # three levels, ISA trained, PTA's terms at every level, CPL's transformation loss
        st = res['details']['stage1']
        assert {'otce_0', 'otce_2', 'i2t_1', 't2i_2'} <= set(st['losses']) and set(st['isa']['losses']) >= {'policy_0', 'ratio_2'}
        assert 0 < st['ot_share'] < 1 and {'i2t', 'tr'} <= set(res['details']['losses']) and res['details']['levels'] == 3
    if experiment in ('unireid', 'otla', 'dalnet', 'oltm', 'clipreid', 'mmpl'):
        assert res['provenance']['world']['scale'] == 'tiny' and res['details']['steps'] > 0
        assert 0 <= res['timings']['data_share'] < 1 and res['timings']['train_s'] > 0
    if experiment == 'unireid':   # the smoke preset trains from random weights: no input file
        assert res['provenance']['inputs'] == {} and res['config']['pretrained'] == 'none'
        pku = {res['metrics'][f'PKU-Sketch {t}']['chance_R1'] for t in ('T->R', 'S->R', 'T+S->R')}
        assert len(pku) == 1   # the three PKU-Sketch query types rank the same gallery
    if experiment == 'saliency':   # IoUs of the net and of the two trivial predictors on the held-out masks
        assert set(res['metrics']) == {'held-out masks'} and res['provenance']['world']['scale'] == 'tiny'
        assert all(0 <= v <= 1 for v in res['metrics']['held-out masks'].values()) and res['details']['steps'] > 0
    if experiment == 'pretrain_resnet':   # leave-one-out retrieval on the held-out corpus photos, before and after
        m = res['metrics']['held-out photos']
        assert set(res['metrics']) == {'held-out photos'} and res['provenance']['world']['scale'] == 'tiny' and res['details']['steps'] > 0
        assert {'R1', 'mAP', 'R1_random_init', 'mAP_random_init'} <= set(m) and res['details']['format'] == 'torchvision resnet18 (no fc)'
    if experiment == 'otla':
        assert res['details']['pseudo_labels'] and res['details']['num_classes'] >= 2


def test_oltm_bdg_path(runs):
    "The BDG baseline through the same template: SynthPed's attributes, WRT and AttrAlign."
    res = run('oltm', 'bdg', '-p', 'model', 'bdg', '-p', 'metric', 'wrt', '-p', 'attributes', 'handcrafted', '-p', 'figures', 'false')
    check_layout(res, 'oltm')
    assert set(res['metrics']) == TASKS['oltm'] and res['details']['model'] == 'bdg' and res['details']['vqa_seconds'] is None
    assert set(res['details']['losses']) >= {'id', 'metric', 'align'} and res['details']['steps'] > 0


def test_oltm_average_fusion_and_pku(runs):
    "OLTM with average pooling (its own fused queries, figures drawn from them) and on the PKU-Sketch format (single-query)."
    res = run('oltm', 'avg', '-p', 'fusion', 'average')
    check_layout(res, 'oltm')
    assert set(res['metrics']) == TASKS['oltm'] and res['config']['fusion'] == 'average' and res['config']['query'] == 'multi'
    res = run('oltm', 'pku', '-p', 'data_format', 'pku_sketch', '-p', 'figures', 'false')
    check_layout(res, 'oltm')
    assert set(res['metrics']) == {'S->P'} and res['config']['data_format'] == 'pku_sketch' and res['details']['data']['query']['modalities'] == {'sketch': res['details']['data']['query']['ids']}


@pytest.mark.parametrize('case, args', [
    ('unsupervised', ['-p', 'setting', 'unsupervised', '-p', 'cluster_on', 'colour', '-p', 'cluster_eps', '0.1', '-p', 'figures', 'false']),
    ('regdb', ['-p', 'data_format', 'regdb', '-p', 'figures', 'false'])])
def test_otla_other_paths(case, args, runs):
    res = run('otla', case, *args)
    check_layout(res, 'otla')
    assert res['details']['pseudo_labels'] and res['details']['num_classes'] >= 2
    if case == 'unsupervised':
        assert res['config']['setting'] == 'unsupervised' and set(res['metrics']) == {'all', 'indoor'}
        assert 'outliers); ' in (runs/'otla'/f'{case}.ipynb').read_text()   # the template's cluster report
    else:
        assert res['config']['data_format'] == 'regdb' and res['details']['within_modality'] == {}
        assert set(res['metrics']) == {'visible_to_thermal', 'thermal_to_visible'}



def test_dalnet_oracle_masks(runs):
    "saliency='oracle': SynthPed's true masks travel with the training photos; no saliency net is trained or read."
    res = run('dalnet', 'oracle', '-p', 'saliency', 'oracle', '-p', 'figures', 'false')
    check_layout(res, 'dalnet')
    assert res['config']['saliency'] == 'oracle' and res['provenance']['inputs'] == {} and res['details']['steps'] > 0

def test_dalnet_book_resnet(runs):
    "pretrained='book': the tiny world's own copy of the book's ResNet (the smoke recipe), recorded as an input file."
    res = run('dalnet', 'book-resnet', '-p', 'pretrained', 'book', '-p', 'saliency', 'oracle', '-p', 'figures', 'false')
    check_layout(res, 'dalnet')
    assert set(res['provenance']['inputs']) == {'pretrained'}
    assert res['provenance']['inputs']['pretrained']['path'].endswith('reidbook-resnet18-tiny.pt')

def test_interactive_run_writes_what_papermill_writes(runs, tmp_path):
    "JupyterLab: the template as it is, the user only switching the preset in the parameters cell, run by a plain kernel."
    nb = nbformat.read(ROOT/'nbs'/'runs'/'ot_benchmark.ipynb', as_version=4)
    params = next(c for c in nb.cells if 'parameters' in c.metadata.get('tags', []))
    assert re.search(r'^preset: str = "embedded"', params.source, re.M) and re.search(r'^run_dir: str = ""', params.source, re.M)
    params.source = params.source.replace('preset: str = "embedded"', 'preset: str = "smoke"')
    NotebookClient(nb, timeout=600, kernel_name='python3', resources={'metadata': {'path': str(tmp_path)}}).execute()
    made = list((runs/'ot_benchmark').glob('*/results.json'))
    assert len(made) == 1 and re.fullmatch(r'\d{8}-\d{6}', made[0].parent.name)   # runs/<experiment>/<timestamp>/, as `reidbook run`
    res = json.loads(made[0].read_text())
    check_layout(res, 'ot_benchmark')
    papermill = run('ot_benchmark', 'via-papermill')
    assert res['config'] == papermill['config'] and set(res['metrics']) == set(papermill['metrics'])
    assert set(res['timings']) == set(papermill['timings']) and set(res['details']) == set(papermill['details'])
