"The `reidbook` command: listing, parameter validation, papermill runs, failures."
import json, shutil, uuid
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, reidbook_cmd
from reidbook import cli


def test_list_shows_experiments_and_parameters():
    r = reidbook_cmd('list')
    assert r.returncode == 0, r.stderr
    assert 'ot_benchmark' in r.stdout and 'run_dir: str' in r.stdout


def test_unknown_experiment_lists_valid_ones():
    r = reidbook_cmd('run', 'no_such_experiment')
    assert r.returncode == 1
    assert "unknown experiment 'no_such_experiment'" in r.stderr and 'ot_benchmark' in r.stderr


def test_unknown_parameter_lists_valid_ones():
    r = reidbook_cmd('run', 'ot_benchmark', '-p', 'no_such_param', '1')
    assert r.returncode == 1
    assert "no parameter 'no_such_param'" in r.stderr and 'run_dir' in r.stderr


def test_bad_parameter_value_is_named():
    spec = cli.experiment_parameters('ot_benchmark')
    int_param = next(n for n, i in spec.items() if i['inferred_type_name'] == 'int')
    r = reidbook_cmd('run', 'ot_benchmark', '-p', int_param, 'not-a-number')
    assert r.returncode == 1 and repr(int_param) in r.stderr


def test_run_writes_notebook_and_results():
    name = f'pytest-{uuid.uuid4().hex[:8]}'
    try:
        r = reidbook_cmd('run', 'ot_benchmark', '--name', name, '--no-progress')
        assert r.returncode == 0, r.stderr[-3000:]
        nb_path = ROOT/'runs'/'ot_benchmark'/f'{name}.ipynb'
        results = ROOT/'runs'/'ot_benchmark'/name/'results.json'
        assert str(nb_path) in r.stdout and str(results) in r.stdout
        assert json.loads(results.read_text())  # the run wrote real results
        nb = nbformat.read(nb_path, as_version=4)
        injected = [c for c in nb.cells if 'injected-parameters' in c.metadata.get('tags', [])]
        assert injected and 'hide-input' in injected[0].metadata['tags']
        assert str(ROOT/'runs'/'ot_benchmark'/name) in injected[0].source
    finally:
        shutil.rmtree(ROOT/'runs'/'ot_benchmark'/name, ignore_errors=True)
        (ROOT/'runs'/'ot_benchmark'/f'{name}.ipynb').unlink(missing_ok=True)


def _template(cells: list[str]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(cells[0], metadata={'tags': ['parameters']})] + \
               [nbformat.v4.new_code_cell(c) for c in cells[1:]]
    nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
    return nb


def test_failing_experiment_names_cell_and_error_and_keeps_notebook(tmp_path, monkeypatch, capsys):
    exps, runs = tmp_path/'exps', tmp_path/'runs'
    exps.mkdir()
    nbformat.write(_template(['run_dir: str = ""\nx: int = 1', 'y = x + 1', 'raise ValueError(f"bad x={x}")']),
                   exps/'boom.ipynb')
    monkeypatch.setattr(cli, 'experiments_dir', lambda: exps)
    monkeypatch.setattr(cli, 'runs_dir', lambda: runs)
    assert cli.main(['run', 'boom', '-p', 'x', '7', '--name', 'r1', '--no-progress']) == 1
    err = capsys.readouterr().err
    assert "experiment 'boom' failed in cell" in err and 'ValueError: bad x=7' in err
    kept = runs/'boom'/'r1.ipynb'
    assert kept.is_file() and str(kept) in err
    assert nbformat.read(kept, as_version=4).metadata['papermill']['exception'] is True


def test_manifest_skips_up_to_date_runs(tmp_path, monkeypatch, capsys):
    exps, runs = tmp_path/'exps', tmp_path/'runs'
    exps.mkdir()
    nbformat.write(_template(['run_dir: str = ""\nx: int = 1', 'print(x)']), exps/'ok.ipynb')
    (tmp_path/'manifest.yml').write_text('runs:\n  - experiment: ok\n    name: m\n    parameters: {x: 3}\n')
    monkeypatch.setattr(cli, 'experiments_dir', lambda: exps)
    monkeypatch.setattr(cli, 'runs_dir', lambda: runs)
    first = cli.run_manifest(tmp_path/'manifest.yml')
    assert first[0].notebook.is_file()
    cli.run_manifest(tmp_path/'manifest.yml')
    assert 'up to date' in capsys.readouterr().out
