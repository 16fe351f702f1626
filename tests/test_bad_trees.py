"""Bad real-format trees: SynthPed's tiny world (the session `world` fixture of conftest.py) copied and broken one way
per case, then read with `reidbook.data.load_dataset`. Each case must raise the expected exception, and its message
must name the file, folder or field at fault (and what was expected). MSMT17, DukeMTMC-reID, ICFG-PEDES and RSTPReid
trees, which SynthPed does not write, are rebuilt here from its Market-1501, Occluded-Duke and CUHK-PEDES trees."""
import json, shutil
from pathlib import Path

import pytest
from PIL import Image

from reidbook.data import DatasetFormatError, ImageReadError, load_dataset, load_image
from reidbook.synth import FOLDERS


# --- trees the world does not hold, made from the ones it does
def msmt_from_market(market: Path, out: Path) -> Path:
    "An MSMT17_V1 tree of the Market photos: train (4 of 5 images) and val (the 5th) lists, query and gallery lists."
    lists = {'train': [], 'val': [], 'query': [], 'gallery': []}
    sources = [('train', p) for p in sorted((market/'bounding_box_train').glob('*.jpg'))]
    sources += [('query', p) for p in sorted((market/'query').glob('*.jpg'))]
    sources += [('gallery', p) for p in sorted((market/'bounding_box_test').glob('*.jpg')) if not p.name.startswith(('-1', '0000'))]
    for n, (split, p) in enumerate(sources):
        pid, cam = int(p.name[:4]), int(p.name.split('_c')[1][0])
        split = 'val' if split == 'train' and n % 5 == 4 else split
        rel = f'{pid:04d}/{pid:04d}_{n:03d}_{cam:02d}_0303morning_{n:04d}_0.jpg'
        (out/('test' if split in ('query', 'gallery') else 'train')/rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(p, out/('test' if split in ('query', 'gallery') else 'train')/rel)
        lists[split].append((rel, pid))
    for split, rows in lists.items():
        label = {pid: i for i, pid in enumerate(sorted({pid for _, pid in rows}))}   # 0-based within each list
        (out/f'list_{split}.txt').write_text(''.join(f'{rel} {label[pid]}\n' for rel, pid in rows))
    return out


def text_from_cuhk(cuhk: Path, out: Path, name: str) -> Path:
    "An ICFG-PEDES (train/test only, sketches in imgs-sketch/) or RSTPReid (`img_path` key) tree of the CUHK-PEDES one."
    shutil.copytree(cuhk/'imgs', out/'imgs')
    entries = json.loads((cuhk/'reid_raw.json').read_text())
    if name == 'icfg_pedes':
        shutil.copytree(cuhk/'imgs-sketch2', out/'imgs-sketch')
        (out/'ICFG-PEDES.json').write_text(json.dumps([e for e in entries if e['split'] != 'val']))
    else:
        (out/'data_captions.json').write_text(json.dumps([{'id': e['id'], 'img_path': e['file_path'], 'captions': e['captions'],
                                                           'split': e['split']} for e in entries]))
    return out


def make_tree(world, tmp_path: Path, reader: str) -> Path:
    "A fresh copy of the world's tree that `reader` reads."
    out, _ = world
    if reader == 'msmt17': return msmt_from_market(out/FOLDERS['market1501'], tmp_path/'MSMT17_V1')
    if reader == 'dukemtmc': return Path(shutil.copytree(out/FOLDERS['occluded_duke'], tmp_path/'DukeMTMC-reID'))
    if reader in ('icfg_pedes', 'rstpreid'):
        return text_from_cuhk(out/FOLDERS['cuhk_pedes'], tmp_path/{'icfg_pedes': 'ICFG-PEDES', 'rstpreid': 'RSTPReid'}[reader], reader)
    return Path(shutil.copytree(out/FOLDERS[reader], tmp_path/FOLDERS[reader]))


# --- small editing helpers
def first(folder: Path, pattern: str = '*.jpg') -> Path: return sorted(folder.glob(pattern))[0]
def entries(file: Path) -> list: return json.loads(file.read_text())
def write_entries(file: Path, es: list) -> None: file.write_text(json.dumps(es))
def lines(file: Path) -> list[str]: return file.read_text().splitlines()
def append(file: Path, text: str) -> None: file.write_text(file.read_text() + text)


def edit_entry(file: Path, which: str, **change) -> int:
    "Change the first entry of split `which`; returns its index."
    es = entries(file)
    i = next(i for i, e in enumerate(es) if e['split'] == which)
    es[i] = {**es[i], **change}; write_entries(file, es)
    return i


# --- the breakages: each edits the tree at `root` and returns the texts the error must contain
def market_identity_in_train_and_test(root):
    q = first(root/'query'); shutil.copy(q, root/'bounding_box_train'/f'{q.name[:4]}_c6s9_999999_99.jpg')
    return ['bounding_box_train/', f'[{int(q.name[:4])}]', 'expected disjoint splits']

def market_empty_query(root):
    for p in (root/'query').glob('*.jpg'): p.unlink()
    return [str(root), 'the query split is empty', 'query/']

def market_camera_out_of_range(root):
    shutil.copy(first(root/'bounding_box_test'), root/'bounding_box_test'/'0001_c7s1_000001_01.jpg')
    return [str(root/'bounding_box_test'/'0001_c7s1_000001_01.jpg'), 'camera 7', 'expected camera 1..6']

def duke_market_name_in_query(root):
    shutil.copy(first(root/'query'), root/'query'/'0001_c1s1_001051_00.jpg')
    return [str(root/'query'/'0001_c1s1_001051_00.jpg'), 'does not match the expected pattern']

def duke_empty_train(root):
    for p in (root/'bounding_box_train').glob('*.jpg'): p.unlink()
    return [str(root), 'the train split is empty', 'bounding_box_train/']

def msmt_line_without_label(root):
    append(root/'list_query.txt', lines(root/'list_query.txt')[0].split(' ')[0] + '\n')
    return [f"{root/'list_query.txt'}, line {len(lines(root/'list_query.txt'))}", 'expected']

def msmt_file_in_train_and_val(root):
    append(root/'list_val.txt', lines(root/'list_train.txt')[0] + '\n')
    return [str(root), 'files in both list_train.txt and list_val.txt']

def msmt_empty_gallery(root):
    (root/'list_gallery.txt').write_text('')
    return [str(root), 'the gallery split is empty', 'list_gallery.txt']

def sysu_identity_in_train_and_test(root):
    train = lines(root/'exp'/'train_id.txt')[0].split(',')
    (root/'exp'/'test_id.txt').write_text(lines(root/'exp'/'test_id.txt')[0] + f',{train[0]}\n')
    return [str(root/'exp'), 'identities in both train_id.txt and test_id.txt', f'[{int(train[0])}]']

def sysu_extra_line_in_id_file(root):
    append(root/'exp'/'val_id.txt', 'these ids were checked by hand\n')
    return [f"{root/'exp'/'val_id.txt'}, line 2", "unexpected 'these ids were checked by hand'", 'expected one line']

def sysu_listed_identity_without_images(root):
    (root/'exp'/'test_id.txt').write_text(lines(root/'exp'/'test_id.txt')[0] + ',9999\n')
    return [str(root/'exp'), 'ids [9999] are listed but have no folder']

def sysu_id_file_not_utf8(root):
    (root/'exp'/'test_id.txt').write_bytes(b'\xff\xfe' + (root/'exp'/'test_id.txt').read_bytes())
    return [str(root/'exp'/'test_id.txt'), 'not UTF-8']

def sysu_bad_image_name(root):
    shutil.copy(first(root/'cam1', '*/*.jpg'), first(root/'cam1', '*/*.jpg').parent/'frame1.jpg')
    return ['frame1.jpg', 'does not match the expected pattern']

def regdb_person_in_train_and_test(root):
    train_line, test = lines(root/'idx'/'train_visible_1.txt')[0], root/'idx'/'test_visible_1.txt'
    append(test, f"{train_line.split(' ')[0]} {1 + max(int(l.split(' ')[1]) for l in lines(test))}\n")
    folder = train_line.split('/')[1]
    return [str(root/'idx'), 'persons (folders) in both train_*_1.txt and test_*_1.txt', f"'{folder}'"]

def regdb_empty_thermal_list(root):
    (root/'idx'/'test_thermal_1.txt').write_text('\n')
    return [str(root), 'the gallery split is empty', 'idx/test_thermal_1.txt']

def regdb_one_person_two_labels(root):
    file = root/'idx'/'test_thermal_1.txt'
    rows = lines(file); path, _ = rows[0].split(' ')
    file.write_text('\n'.join([f'{path} {1 + max(int(l.split(" ")[1]) for l in rows)}'] + rows[1:]) + '\n')
    return [f'{file}, line 1', f"folder {path.split('/')[1]} was used for label"]

def pku_third_photo(root):
    p = first(root/'photo'); shutil.copy(p, root/'photo'/f"{p.name.split('_')[0]}_09_9999.jpg")
    return [str(root/'photo'), f"{{{int(p.name.split('_')[0])}: 3}}", 'two photos (two cameras) per identity']

def pku_camera_zero(root):
    p = first(root/'photo'); q = p.with_name(f"{p.name.split('_')[0]}_00_{p.name.split('_')[2]}"); p.rename(q)
    return [str(q), 'camera 00', 'expected a camera number >= 1']

def pku_style_count_wrong(root):
    f = first(root/'styleAnnotation', 'a_*.txt'); n = int(f.stem.split('_')[1]); f.rename(f.with_name(f'a_{n + 1}.txt'))
    return [str(f.with_name(f'a_{n + 1}.txt')), f'the name promises {n + 1} ids']

def mask1k_misspelt_query_folder(root):
    (root/'sketch'/'A'/'query').rename(root/'sketch'/'A'/'Query')
    return [str(root/'sketch'/'A'), "unexpected ['Query']", 'expected only the folders train/ and query/']

def mask1k_test_identity_in_training(root):
    q = first(root/'photo'/'query'); shutil.copy(q, root/'photo'/'train'/q.name)
    return [str(root), 'identities in both training images (photo/train/', f'[{int(q.name[:4])}]']

def cuhk_split_capitalised(root):
    i = edit_entry(root/'reid_raw.json', 'test', split='Test')
    return [f"{root/'reid_raw.json'}, entry {i}", "split 'Test'", "expected one of ('train', 'val', 'test')"]

def cuhk_absolute_file_path(root):
    rel = entries(root/'reid_raw.json')[0]['file_path']
    i = edit_entry(root/'reid_raw.json', 'test', file_path=str(root/'imgs'/rel))
    return [f"{root/'reid_raw.json'}, entry {i}", 'leaves', 'expected a relative path inside it']

def cuhk_path_escapes_imgs(root):
    i = edit_entry(root/'reid_raw.json', 'train', file_path='../attributes.json')
    return [f"{root/'reid_raw.json'}, entry {i}", "path '../attributes.json' leaves"]

def cuhk_no_test_entries(root):
    write_entries(root/'reid_raw.json', [e for e in entries(root/'reid_raw.json') if e['split'] != 'test'])
    return [str(root), 'the query split is empty', "reid_raw.json entries with split 'test'"]

def cuhk_test_identity_in_train(root):
    train_id = next(e['id'] for e in entries(root/'reid_raw.json') if e['split'] == 'train')
    edit_entry(root/'reid_raw.json', 'test', id=train_id)
    return [str(root/'reid_raw.json'), "identities in both split 'train' and split 'test'", f'[{train_id}]']

def cuhk_json_not_utf8(root):
    text = (root/'reid_raw.json').read_text().replace('pedestrian', 'piéton', 1)
    (root/'reid_raw.json').write_text(text, encoding='latin-1')
    return [str(root/'reid_raw.json'), 'not UTF-8']

def cuhk_attributes_not_utf8(root):
    (root/'attributes.json').write_bytes((root/'attributes.json').read_bytes().replace(b'"', b'\xab', 1))
    return [str(root/'attributes.json'), 'not UTF-8']

def icfg_unknown_split(root):
    i = edit_entry(root/'ICFG-PEDES.json', 'test', split='query')
    return [f"{root/'ICFG-PEDES.json'}, entry {i}", "split 'query'"]

def rstp_image_in_train_and_test(root):
    es = entries(root/'data_captions.json')
    train = next(e for e in es if e['split'] == 'train')
    write_entries(root/'data_captions.json', es + [{**train, 'split': 'test'}])
    return [str(root/'data_captions.json'), "in both split 'train' and split 'test'"]

def rstp_file_path_instead_of_img_path(root):
    es = entries(root/'data_captions.json')
    es[0] = {('file_path' if k == 'img_path' else k): v for k, v in es[0].items()}
    write_entries(root/'data_captions.json', es)
    return [f"{root/'data_captions.json'}, entry 0", "missing ['img_path']"]


CASES = [  # (reader, breakage, exception)
    ('market1501', market_identity_in_train_and_test, DatasetFormatError),
    ('market1501', market_empty_query, DatasetFormatError),
    ('market1501', market_camera_out_of_range, DatasetFormatError),
    ('occluded_duke', duke_market_name_in_query, DatasetFormatError),
    ('dukemtmc', duke_empty_train, DatasetFormatError),
    ('msmt17', msmt_line_without_label, DatasetFormatError),
    ('msmt17', msmt_file_in_train_and_val, DatasetFormatError),
    ('msmt17', msmt_empty_gallery, DatasetFormatError),
    ('sysu_mm01', sysu_identity_in_train_and_test, DatasetFormatError),
    ('sysu_mm01', sysu_extra_line_in_id_file, DatasetFormatError),
    ('sysu_mm01', sysu_listed_identity_without_images, DatasetFormatError),
    ('sysu_mm01', sysu_id_file_not_utf8, DatasetFormatError),
    ('sysu_mm01', sysu_bad_image_name, DatasetFormatError),
    ('regdb', regdb_person_in_train_and_test, DatasetFormatError),
    ('regdb', regdb_empty_thermal_list, DatasetFormatError),
    ('regdb', regdb_one_person_two_labels, DatasetFormatError),
    ('pku_sketch', pku_third_photo, DatasetFormatError),
    ('pku_sketch', pku_camera_zero, DatasetFormatError),
    ('pku_sketch', pku_style_count_wrong, DatasetFormatError),
    ('mask1k', mask1k_misspelt_query_folder, DatasetFormatError),
    ('mask1k', mask1k_test_identity_in_training, DatasetFormatError),
    ('cuhk_pedes', cuhk_split_capitalised, DatasetFormatError),
    ('cuhk_pedes', cuhk_absolute_file_path, DatasetFormatError),
    ('cuhk_pedes', cuhk_path_escapes_imgs, DatasetFormatError),
    ('cuhk_pedes', cuhk_no_test_entries, DatasetFormatError),
    ('cuhk_pedes', cuhk_test_identity_in_train, DatasetFormatError),
    ('cuhk_pedes', cuhk_json_not_utf8, DatasetFormatError),
    ('cuhk_pedes', cuhk_attributes_not_utf8, DatasetFormatError),
    ('icfg_pedes', icfg_unknown_split, DatasetFormatError),
    ('rstpreid', rstp_image_in_train_and_test, DatasetFormatError),
    ('rstpreid', rstp_file_path_instead_of_img_path, DatasetFormatError),
]


@pytest.mark.parametrize('reader', sorted({r for r, _, _ in CASES}))
def test_unbroken_tree_reads(world, tmp_path, reader):
    "The trees before breaking: every reader reads its copy (so each failure below is the breakage's doing)."
    ds = load_dataset(reader, make_tree(world, tmp_path, reader))
    assert ds.train and ds.query and ds.gallery


@pytest.mark.parametrize('reader,breakage,exc', CASES, ids=[b.__name__ for _, b, _ in CASES])
def test_bad_tree_is_refused_naming_the_culprit(world, tmp_path, reader, breakage, exc):
    root = make_tree(world, tmp_path, reader)
    words = breakage(root)
    with pytest.raises(exc) as info: load_dataset(reader, root)
    assert all(w in str(info.value) for w in words), (words, str(info.value))


def test_decompression_bomb_names_the_file(world, tmp_path, monkeypatch):
    "PIL's DecompressionBombError (a huge image) becomes an ImageReadError naming the file."
    path = first(make_tree(world, tmp_path, 'market1501')/'query')
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 100)   # the world's 128x64 images are now 'bombs'
    with pytest.raises(ImageReadError) as info: load_image(path)
    assert str(path) in str(info.value) and 'decompression bomb' in str(info.value).lower()
