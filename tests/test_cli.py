"The `reidbook` command: listing, override validation, papermill runs streamed to the terminal, failures, suites."
import json

import nbformat
import pytest

from conftest import reidbook_cmd
from reidbook import cli
from reidbook.experiment import SCHEMA, RunSpec, run_status


@pytest.fixture
def runs(tmp_path, monkeypatch):
    "Runs go to a temporary folder (the checkout's runs/ is never touched), for this process and its children."
    monkeypatch.setenv('REIDBOOK_RUNS', str(tmp_path/'runs'))
    return tmp_path/'runs'


def test_list_shows_experiments_presets_and_fields():
    r = reidbook_cmd('list')
    assert r.returncode == 0, r.stderr
    for line in ('unireid: presets embedded, paper, smoke, official; tables table2 (t2r, s2r, f2r, ls, dyn, full, full-eq1, full-cosine), sketch (pad10, captions-only)',
                 'otla: presets embedded, paper, smoke, official; tables ablation (r1, r2, r3, r4, r5, r6)',
                 'ot_benchmark: presets embedded, smoke'):
        assert line in r.stdout, r.stdout
    r = reidbook_cmd('list', 'unireid')
    assert r.returncode == 0, r.stderr
    assert "  lr: float = 0.0001  # Adam learning rate (paper: 1e-5)" in r.stdout
    assert "preset official: {" in r.stdout and "'variant': 'code'" in r.stdout
    assert "table table2: t2r = L_T->R {'tasks': 'T', 'dynamic': False, 'interaction': False}" in r.stdout


@pytest.mark.parametrize('args, words', [
    (['run', 'no_such_experiment'], "unknown experiment 'no_such_experiment'; experiments: pretrain_clip, ot_benchmark"),
    (['run', 'unireid', '-p', 'epoch', '2'], "UNIReIDConfig has no field 'epoch' (did you mean 'epochs'?)"),
    (['run', 'unireid', '--preset', 'papr'], "UNIReIDConfig has no preset 'papr'; its presets: embedded, paper, smoke, official"),
    (['run', 'otla', '-p', 'image_size', '[128,'], "image_size='[128,': not a valid value for 2 values [int, int]"),
    (['run', 'otla', '-p', 'image_size', '128'], 'image_size=128: expected 2 values [int, int]'),
    (['run', 'otla', '-p', 'epochs', 'two'], "epochs='two': expected int"),
    (['run', 'otla', '-p', 'assignment', 'truth'], "assignment='truth' trains on the hidden IR labels"),
    (['book', '--suite', 'nope', '--check'], "no suite 'nope' in the manifest; suites: default, full")])
def test_bad_input_is_one_line_naming_it(args, words, capsys):
    "The console script for the first case; `main` in this process for the others (the same code, without a 6-s start-up each)."
    if args[1] == 'no_such_experiment':
        r = reidbook_cmd(*args)
        code, err = r.returncode, r.stderr
    else: code, err = cli.main(args), capsys.readouterr().err
    assert code == 1 and words in err, err
    assert 'Traceback' not in err and len(err.strip().splitlines()) == 1, err   # no kernel was started


def test_run_streams_progress_and_writes_the_shared_layout(runs):
    r = reidbook_cmd('run', 'ot_benchmark', '--preset', 'smoke', '-p', 'seed', '3', '--name', 'cli')
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout + r.stderr
    assert '[ot_benchmark/cli] preset smoke + {\'seed\': 3}' in out          # the run's own output reached the terminal
    assert '[run] ot_benchmark/cli:' in out and 's of wall time' in out
    assert 'Kernel is running over TCP' not in out and 'Executing' not in out   # no transport warning, no cell counter
    res = json.loads((runs/'ot_benchmark'/'cli'/'results.json').read_text())
    assert res['schema'] == SCHEMA and res['preset'] == 'smoke' and res['overrides'] == {'seed': 3}
    assert res['config']['seed'] == 3 and res['config']['n_large'] == 500
    assert set(res) == {'schema', 'experiment', 'name', 'preset', 'overrides', 'config', 'metrics', 'timings', 'provenance', 'details'}
    assert res['provenance']['sources']['reidbook/ot.py'] and res['timings']['total_s'] > 0
    nb = nbformat.read(runs/'ot_benchmark'/'cli.ipynb', as_version=4)
    injected = [c for c in nb.cells if 'injected-parameters' in c.metadata.get('tags', [])]
    assert injected and 'hide-input' in injected[0].metadata['tags'] and 'overrides = {"seed": 3}' in injected[0].source
    assert run_status(RunSpec('ot_benchmark', 'cli', 'smoke', {'seed': 3})).fresh


def test_failing_run_names_cell_and_error_and_keeps_notebook(runs, tmp_path, monkeypatch, capsys):
    nb = nbformat.v4.new_notebook()
    nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
    nb.cells = [nbformat.v4.new_code_cell('preset: str = "embedded"\noverrides: dict = {}\nrun_dir: str = ""',
                                          metadata={'tags': ['parameters']}),
                nbformat.v4.new_code_cell('x = overrides["seed"] + 1'),
                nbformat.v4.new_code_cell('raise ValueError(f"bad x={x}")')]
    nbformat.write(nb, tmp_path/'boom.ipynb')
    monkeypatch.setattr(cli, 'template_path', lambda name: tmp_path/'boom.ipynb')
    (runs/'ot_benchmark'/'r1').mkdir(parents=True)
    (runs/'ot_benchmark'/'r1'/'results.json').write_text('{"schema": 1}')      # an earlier run's results
    assert cli.main(['run', 'ot_benchmark', '--preset', 'smoke', '-p', 'seed', '6', '--name', 'r1', '--quiet']) == 1
    err = capsys.readouterr().err
    assert "experiment 'ot_benchmark' failed in cell [" in err and 'ValueError: bad x=7' in err
    kept = runs/'ot_benchmark'/'r1.ipynb'
    assert kept.is_file() and str(kept) in err and nbformat.read(kept, as_version=4).metadata['papermill']['exception']
    assert not (runs/'ot_benchmark'/'r1'/'results.json').exists()               # no results left to pass for this run's
    assert run_status(RunSpec('ot_benchmark', 'r1', 'smoke', {'seed': 6})).state == 'failed'


def test_suite_runs_what_is_not_fresh_and_check_reports_why(runs, tmp_path, capsys):
    manifest = tmp_path/'manifest.yml'
    manifest.write_text('suites:\n  default:\n    - {experiment: ot_benchmark, name: a, preset: smoke}\n'
                        '    - {experiment: ot_benchmark, name: b, preset: smoke, overrides: {seed: 1}}\n')
    assert [r.notebook.name for r in cli.run_suite(manifest=manifest, progress=False)] == ['a.ipynb', 'b.ipynb']
    assert cli.run_suite(manifest=manifest, progress=False) == []
    out = capsys.readouterr().out
    assert '[book] 1/2 ot_benchmark/a: up to date' in out and "ran 0 of 2 runs" in out
    res = json.loads((runs/'ot_benchmark'/'b'/'results.json').read_text())
    res['provenance']['sources']['reidbook/ot.py'] = 'an older version'
    (runs/'ot_benchmark'/'b'/'results.json').write_text(json.dumps(res))
    statuses = cli.check_suite(manifest=manifest)
    assert [s.state for s in statuses] == ['fresh', 'stale'] and statuses[1].reasons == ['source changed: reidbook/ot.py']
    assert "* ot_benchmark/b: stale (source changed: reidbook/ot.py)" in capsys.readouterr().out
    assert [r.notebook.name for r in cli.run_suite(manifest=manifest, progress=False)] == ['b.ipynb']   # only the stale one


def test_book_check_exit_status(runs):
    r = reidbook_cmd('book', '--check')
    assert r.returncode == 1 and "suite 'default':" in r.stdout and '* pretrain_clip/book: missing' in r.stdout


def _sleeper(tmp_path, fail: str = ''):
    "A template that records when it ran and with how many threads (and raises for the run named `fail`)."
    nb = nbformat.v4.new_notebook()
    nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
    nb.cells = [nbformat.v4.new_code_cell('preset: str = "embedded"\noverrides: dict = {}\nrun_dir: str = ""',
                                          metadata={'tags': ['parameters']}),
                nbformat.v4.new_code_cell(
                    'import json, os, pathlib, time\nd = pathlib.Path(run_dir); d.mkdir(parents=True, exist_ok=True)\n'
                    f'if d.name == {fail!r}: raise ValueError("boom")\n'
                    't0 = time.time(); time.sleep(2)\n'
                    '(d/"log.json").write_text(json.dumps({"start": t0, "end": time.time(), "omp": os.environ.get("OMP_NUM_THREADS")}))')]
    nbformat.write(nb, tmp_path/'sleeper.ipynb')
    return tmp_path/'sleeper.ipynb'


def test_parallel_suite_runs_side_by_side_and_exclusive_ones_alone(runs, tmp_path, monkeypatch):
    sleeper = _sleeper(tmp_path)
    monkeypatch.setattr(cli, 'template_path', lambda name: sleeper)
    monkeypatch.setattr(cli.os, 'cpu_count', lambda: 4)
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    manifest = tmp_path/'manifest.yml'
    manifest.write_text('suites:\n  default:\n' + ''.join(f'    - {{experiment: {e}, name: {n}, preset: smoke}}\n' for e, n in
                        [('unireid', 'a'), ('unireid', 'b'), ('ot_benchmark', 'c'), ('unireid', 'd')]))
    done = cli.run_suite(manifest=manifest, progress=False, jobs=2)
    assert sorted(r.notebook.name for r in done) == ['a.ipynb', 'b.ipynb', 'c.ipynb', 'd.ipynb']
    log = {n: json.loads((runs/e/n/'log.json').read_text()) for e, n in
           [('unireid', 'a'), ('unireid', 'b'), ('ot_benchmark', 'c'), ('unireid', 'd')]}
    assert log['b']['start'] < log['a']['end'] and log['a']['start'] < log['b']['end']     # a and b side by side
    assert log['c']['start'] >= max(log['a']['end'], log['b']['end']) and log['d']['start'] >= log['c']['end']   # c alone
    assert [log[n]['omp'] for n in 'abcd'] == ['2', '2', None, '2']   # 4 cores / 2 jobs; the exclusive run as this process
    with pytest.raises(ValueError, match='jobs=0'): cli.run_suite(manifest=manifest, progress=False, jobs=0)


def test_parallel_suite_waits_only_for_the_runs_a_run_needs(runs, tmp_path, monkeypatch):
    "The pretraining shares the machine with a run that does not read it (OTLA); a run that does (UNIReID) waits for it."
    sleeper = _sleeper(tmp_path)
    monkeypatch.setattr(cli, 'template_path', lambda name: sleeper)
    manifest = tmp_path/'manifest.yml'
    order = [('pretrain_clip', 'p'), ('otla', 'o'), ('unireid', 'u')]
    manifest.write_text('suites:\n  default:\n' + ''.join(f'    - {{experiment: {e}, name: {n}, preset: smoke}}\n' for e, n in order))
    cli.run_suite(manifest=manifest, progress=False, jobs=2)
    log = {n: json.loads((runs/e/n/'log.json').read_text()) for e, n in order}
    assert log['o']['start'] < log['p']['end']   # OTLA beside the pretraining
    assert log['u']['start'] >= log['p']['end']   # UNIReID after it
    from reidbook.experiment import EXPERIMENTS, config_class
    for e in EXPERIMENTS: assert set(config_class(e).NEEDS) <= set(EXPERIMENTS), e   # every need names an experiment


def test_parallel_suite_failure_waits_for_the_other_run(runs, tmp_path, monkeypatch):
    sleeper = _sleeper(tmp_path, fail='b')
    monkeypatch.setattr(cli, 'template_path', lambda name: sleeper)
    manifest = tmp_path/'manifest.yml'
    manifest.write_text('suites:\n  default:\n    - {experiment: unireid, name: a, preset: smoke}\n'
                        '    - {experiment: unireid, name: b, preset: smoke}\n')
    with pytest.raises(cli.ExperimentFailed, match='ValueError: boom'): cli.run_suite(manifest=manifest, progress=False, jobs=2)
    assert (runs/'unireid'/'a'/'log.json').is_file()   # b failed at once; a, in flight beside it, finished first
