"""Two real processes ask for the same SynthPed world, or the same pretrained CLIP, at once: the first does the work
while holding the lock (`reidbook.core.file_lock`), the second waits, then reuses the first one's files instead of
generating or pretraining again on top of them."""
import json, os, subprocess, sys, time
from pathlib import Path

from reidbook.data import load_dataset

# Runs `call` (generation or pretraining) in a fresh process with the worker function `target` traced. The process
# writes `ready` once imported, just before `call`. The first traced call (made while holding the lock) writes
# `started`, then waits for the partner process to be ready and a second more, so that the partner surely asks for
# the lock while the work is under way. Prints the number of traced calls and the result.
SCRIPT = '''
import json, sys, time
from pathlib import Path
import reidbook.{module} as m
started, partner_ready, ready = map(Path, sys.argv[1:4])
calls, original = [], m.{target}
def traced(*args, **kw):
    calls.append(1)
    if len(calls) == 1:
        started.write_text('started')
        t0 = time.time()
        while not partner_ready.exists() and time.time() - t0 < 300: time.sleep(0.05)
        time.sleep(1.)
    return original(*args, **kw)
m.{target} = traced
ready.write_text('ready')
result = {call}
print(json.dumps({{'calls': len(calls), 'result': str(result)}}))
'''


def race(tmp_path: Path, module: str, target: str, call: str) -> tuple[dict, dict, str]:
    "Start process A, wait until it works (holding the lock), start B; returns A's and B's reports and B's stderr."
    env = {**os.environ, 'REIDBOOK_DATA': str(tmp_path/'data'), 'OMP_NUM_THREADS': '1'}
    code = SCRIPT.format(module=module, target=target, call=call)
    run = lambda me, partner: subprocess.Popen(
        [sys.executable, '-c', code, *(str(tmp_path/f) for f in (f'{me}-started', f'{partner}-ready', f'{me}-ready'))],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    a = run('a', 'b')
    deadline = time.time() + 300
    while not (tmp_path/'a-started').exists():
        assert a.poll() is None and time.time() < deadline, a.communicate()
        time.sleep(0.1)
    b = run('b', 'a')
    (a_out, a_err), (b_out, b_err) = a.communicate(timeout=600), b.communicate(timeout=600)
    assert a.returncode == 0 and b.returncode == 0, (a_err[-3000:], b_err[-3000:])
    return json.loads(a_out.splitlines()[-1]), json.loads(b_out.splitlines()[-1]), b_err


def test_two_processes_generate_a_world_once(tmp_path):
    a, b, b_err = race(tmp_path, 'synth', '_run',
                       "m.ensure_world('tiny', formats=['market1501', 'pku_sketch'], workers=1, progress=False)")
    assert a['calls'] == 2 and b['calls'] == 0     # A drew both formats; B drew nothing...
    assert 'waiting for it to finish' in b_err and a['result'] == b['result']   # ...it waited, then reused A's world
    for name in ('market1501', 'pku_sketch'): assert load_dataset(name, Path(a['result'])).train


def test_two_processes_pretrain_once(tmp_path):
    config = ("m.PretrainConfig(world_scale='tiny', epochs=1, warmup_epochs=0, batch_size=8, image_size=(64, 32), sketch_prob=0., "
              "eval_every=0)")
    a, b, b_err = race(tmp_path, 'pretrain', 'pretrain_clip', f"m.ensure_pretrained_clip({config}, progress=False)")
    assert a['calls'] == 1 and b['calls'] == 0 and 'waiting for it to finish' in b_err
    checkpoint = Path(a['result'])
    assert b['result'] == a['result'] and checkpoint.is_file()
    assert json.loads(checkpoint.with_suffix('.json').read_text())['config']['image_size'] == [64, 32]
