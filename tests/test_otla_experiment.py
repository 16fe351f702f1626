"""The OTLA experiment's paths that the template's default smoke run (semi-supervised, SYSU-MM01) does not take:
the unsupervised setting (DBSCAN clusters of colour histograms as the RGB labels; the tiny world's 20 RGB images need
a small eps) and the RegDB format, each on the tiny world."""
import json, shutil, uuid

import pytest

from conftest import ROOT, reidbook_cmd

CASES = {'unsupervised': ['-p', 'setting', 'unsupervised', '-p', 'cluster_on', 'colour', '-p', 'cluster_eps', '0.1'],
         'regdb': ['-p', 'data_format', 'regdb']}


@pytest.mark.parametrize('case', list(CASES))
def test_otla_experiment_runs(case):
    name = f'pytest-{case}-{uuid.uuid4().hex[:8]}'
    try:
        r = reidbook_cmd('run', 'otla', '--name', name, '--no-progress', '-p', 'figures', 'false', *CASES[case])
        assert r.returncode == 0, r.stderr[-3000:]
        res = json.loads((ROOT/'runs'/'otla'/name/'results.json').read_text())
        assert res['steps'] > 0 and res['pseudo_labels'] and res['num_classes'] >= 2
        if case == 'unsupervised':
            assert res['setting'] == 'unsupervised' and set(res['metrics']) == {'all', 'indoor'}
            assert 'outliers); ' in (ROOT/'runs'/'otla'/f'{name}.ipynb').read_text()   # the template's cluster report
        else:
            assert res['data_format'] == 'regdb' and res['within_modality'] == {}
            assert set(res['metrics']) == {'visible_to_thermal', 'thermal_to_visible'}
        assert all(0 <= m['R1'] <= 1 and 0 <= m['mAP'] <= 1 for m in res['metrics'].values())
    finally:
        shutil.rmtree(ROOT/'runs'/'otla'/name, ignore_errors=True)
        (ROOT/'runs'/'otla'/f'{name}.ipynb').unlink(missing_ok=True)
