"""The OT benchmark script checks its targets at full size: a missed (or unmeasured) target ends it with an error
naming it; smaller runs only report. Checked on hand-made results, and end to end on a tiny run."""
import importlib.util

import pytest

from reidbook.core import repo_root

spec = importlib.util.spec_from_file_location('ot_bench', repo_root()/'benchmarks'/'ot_bench.py')
ot_bench = importlib.util.module_from_spec(spec); spec.loader.exec_module(ot_bench)
MET = {k: True for k in ot_bench.REQUIRED_TARGETS}


def test_full_size_run_meeting_every_target_passes():
    ot_bench.check_targets({'full_size': True, 'targets': MET})


@pytest.mark.parametrize('target', ot_bench.REQUIRED_TARGETS)
def test_full_size_run_missing_a_target_exits_naming_it(target):
    with pytest.raises(SystemExit) as info: ot_bench.check_targets({'full_size': True, 'targets': {**MET, target: False}})
    assert str(info.value) == f'OT benchmark: target(s) MISSED at full size: {target}'


def test_unmeasured_target_counts_as_missed():
    targets = {k: v for k, v in MET.items() if k != 'large_eps0.001_error_le_1e-4'}   # e.g. --eps-large 0.05 only
    with pytest.raises(SystemExit, match=r'large_eps0.001_error_le_1e-4 \(not measured\)'):
        ot_bench.check_targets({'full_size': True, 'targets': targets})


def test_small_run_only_reports(capsys):
    results = ot_bench.main(['--n-large', '60', '--m-large', '8', '--n-problems', '20', '--repeats', '1',
                             '--threads', '1'])
    assert not results['full_size'] and ot_bench.missed_targets(results) == [] and 'Targets (the targets' in capsys.readouterr().out
