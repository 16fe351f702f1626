"""SynthPed's `tiny` world read back through `reidbook.data`: every written format against the world's manifest, and
determinism of the generator (same seed, same bytes; another seed, other bytes)."""
import hashlib, json
from pathlib import Path

import pytest
import torch

from reidbook.data import Dataset, ImageDataset, Preprocess, foreground_mask_path, load_dataset, verify_images
from reidbook.synth import FOLDERS, synthesize

READERS = {'market1501': 'market1501', 'occluded_duke': 'occluded_duke', 'sysu_mm01': 'sysu_mm01', 'regdb': 'regdb',
           'pku_sketch': 'pku_sketch', 'mask1k': 'mask1k', 'cuhk_pedes': 'cuhk_pedes',
           'synthped_captions': 'cuhk_pedes'}   # SynthPed format -> the reader of its on-disk format
OPTIONS = {'synthped_captions': {'require_test': False}}   # the pretraining corpus has a train split only


def file_hashes(root: Path) -> dict[str, str]:
    "sha256 of every file under `root`, by path relative to it."
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob('*')) if p.is_file()}


def read(world: tuple[Path, dict], fmt: str, **options) -> tuple[Dataset, dict]:
    "The dataset SynthPed wrote for `fmt`, and that format's counts from the manifest."
    out, manifest = world
    return load_dataset(READERS[fmt], out/FOLDERS[fmt], **{**OPTIONS.get(fmt, {}), **options}), manifest['formats'][fmt]


def ids(records) -> int: return len({r.pid for r in records})


def test_manifest_lists_every_reader_format(world):
    out, manifest = world
    assert set(manifest['formats']) == set(READERS) == set(FOLDERS)
    assert all((out/folder).is_dir() for folder in FOLDERS.values())


@pytest.mark.parametrize('fmt', list(READERS))
def test_records_are_files_with_attributes(world, fmt):
    ds, c = read(world, fmt)
    records = ds.train + ds.query + ds.gallery + [r for v in ds.extra.values() for r in v]
    unused = ds.protocol.get('dropped_junk', 0) + (c['test/photo'] - len(ds.gallery) if fmt == 'sysu_mm01' else 0)
    assert verify_images(ds) == c['images'] - unused   # every image is referenced (but junk, SYSU's undrawn) and readable...
    assert all(r.attributes for r in ds.train) and all(r.attributes for r in records if r.pid != 0)   # ...and annotated
    assert sorted({r.pid for r in ds.train}) == list(range(ds.num_train_pids))


@pytest.mark.parametrize('fmt', ['market1501', 'occluded_duke'])
def test_market_formats(world, fmt):
    ds, c = read(world, fmt)
    assert (len(ds.train), len(ds.query)) == (c['train/photo'], c['query/photo'])
    assert len(ds.gallery) + ds.protocol['dropped_junk'] == c['gallery/photo']
    assert (ds.num_train_pids, ids(ds.query)) == (c['train/identities'], c['query/identities'])
    assert ids(r for r in ds.gallery if r.pid > 0) == c['gallery/identities']
    if fmt == 'market1501':   # junk boxes written, dropped; distractors written, kept
        assert ds.protocol['dropped_junk'] > 0 and any(r.pid == 0 for r in ds.gallery)


def test_sysu_mm01(world):
    ds, c = read(world, 'sysu_mm01')
    assert len(ds.train) == c['train/photo'] + c['train/ir'] + c['val/photo'] + c['val/ir']   # AGW: train + val
    assert ds.num_train_pids == c['train/identities'] + c['val/identities']
    assert len(ds.query) == c['test/ir'] and ids(ds.query) == c['test/identities']
    root = ds.root
    for mode, cams in (('all', (1, 2, 4, 5)), ('indoor', (1, 2))):
        g = load_dataset('sysu_mm01', root, mode=mode).gallery
        seen = {(pid, cam) for pid in {r.pid for r in ds.query} for cam in cams if (root/f'cam{cam}'/f'{pid:04d}').is_dir()}
        assert sorted((r.pid, r.camid + 1) for r in g) == sorted(seen)     # one image per (test id, RGB camera)


def test_regdb_every_trial(world):
    _, c = read(world, 'regdb')
    for trial in range(1, 11):
        ds = load_dataset('regdb', world[0]/FOLDERS['regdb'], trial=trial)
        assert len(ds.train) == c['all/photo'] // 2 + c['all/ir'] // 2 and ds.num_train_pids == c['all/identities'] // 2
        assert (len(ds.query), len(ds.gallery)) == (c['all/photo'] // 2, c['all/ir'] // 2)
        assert {r.pid for r in ds.query} == {r.pid for r in ds.gallery} and {r.modality for r in ds.query} == {'rgb'}


def test_pku_sketch(world):
    ds, c = read(world, 'pku_sketch')
    n, test = c['all/identities'], ds.protocol['num_test']
    assert c['all/sketch'] == n and c['all/photo'] == 2 * n and test == round(n / 4)
    assert (len(ds.query), len(ds.gallery), len(ds.train)) == (test, 2 * test, 3 * (n - test))


def test_mask1k(world):
    ds, c = read(world, 'mask1k', multi_query=True)
    assert len(ds.train) == c['train/photo'] + c['train/sketch'] and ds.num_train_pids == c['train/identities']
    assert (len(ds.query), len(ds.gallery)) == (c['query/sketch'], c['gallery/photo'])
    assert len(ds.query_groups) == c['query/identities'] and sorted(sum(ds.query_groups, [])) == list(range(len(ds.query)))


def test_mask1k_oracle_masks(world):
    "Every MaSk1K photo has its foreground mask; the training photos load with their masks, sketches are refused."
    ds, c = read(world, 'mask1k')
    photos = [r for r in ds.train if r.modality == 'rgb']
    masks = [foreground_mask_path(r) for r in photos + ds.gallery]
    assert len(photos) == c['train/photo'] and len(masks) == c['masks'] == len(set(masks))
    assert all(m.parent.name == Path(r.path).parent.name and m.parent.parent.name == 'masks' for m, r in zip(masks, photos + ds.gallery))
    loader = torch.utils.data.DataLoader(ImageDataset(photos, Preprocess((64, 32)).transforms(('rgb',)).train, cache=True,
                                                      mask_of=foreground_mask_path), batch_size=8)
    batch = next(iter(loader))
    assert batch['mask'].shape == (8, 1, 64, 32) and 0.05 < batch['mask'].mean() < 0.5
    sketch = next(r for r in ds.train if r.modality == 'sketch')
    with pytest.raises(ValueError, match='a sketch record has no foreground mask'): foreground_mask_path(sketch)


@pytest.mark.parametrize('fmt', ['cuhk_pedes', 'synthped_captions'])
def test_text_formats(world, fmt):
    ds, c = read(world, fmt)
    entries = json.loads((ds.root/'reid_raw.json').read_text())
    captions = {s: sum(len(e['captions']) for e in entries if e['split'] == s) for s in ('train', 'val', 'test')}
    assert len(ds.train) == captions['train'] and len({r.image_id for r in ds.train}) == c['train/photo']   # one row per caption
    assert ds.num_train_pids == c['train/identities'] and {r.pid for r in ds.train} == {e['id'] - 1 for e in entries if e['split'] == 'train'}
    if fmt == 'synthped_captions':
        assert not ds.query and not ds.gallery and ds.protocol['sketch_dir'] == 'imgs-sketch2'
        assert all(Path(ds.sketch_path(r)).is_file() for r in ds.train) and c['train/sketch'] == c['train/photo']
        return
    assert len(ds.gallery) == c['test/photo'] and len(ds.extra['val_gallery']) == c['val/photo']
    assert (len(ds.query), len(ds.extra['val_query'])) == (captions['test'], captions['val'])      # one query per caption
    assert len(ds.extra['sketch_query']) == c['test/sketch'] and ds.protocol['sketch_dir'] == 'imgs-sketch2'
    assert [(r.image_id, r.pid) for r in ds.extra['sketch_query']] == [(r.image_id, r.pid) for r in ds.gallery]


def test_same_seed_same_bytes_other_seed_other_bytes(world, tmp_path):
    out, _ = world
    again = synthesize(out=tmp_path/'again', scale='tiny', seed=0)
    assert again == world[1] and file_hashes(tmp_path/'again') == file_hashes(out)
    synthesize(out=tmp_path/'seed1', scale='tiny', seed=1, formats=['market1501'])
    folder = FOLDERS['market1501']
    assert file_hashes(tmp_path/'seed1'/folder) != file_hashes(out/folder)
