"""Bad real-format trees: SynthPed's tiny world (the session `world` fixture of conftest.py) copied and broken one way
per case, then read with `reidbook.data.load_dataset`. Each case must raise the expected exception, and its message
must name the file, folder or field at fault (and what was expected). MSMT17, DukeMTMC-reID, ICFG-PEDES and RSTPReid
trees, which SynthPed does not write, are rebuilt here from its Market-1501, Occluded-Duke and CUHK-PEDES trees; the
sketch-photo trees of QMUL-ShoeV2 (paired folders), QMUL-ChairV2 (SketchX release with split lists), CUHK student and
CUFSF are built by hand in their real layouts from tiny PIL images."""
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


def image(path: Path, sketch: bool = False) -> Path:
    "A tiny image: a colour photo, or a rendered sketch (RGBA: transparent canvas, one black stroke)."
    path.parent.mkdir(parents=True, exist_ok=True)
    if sketch:
        im = Image.new('RGBA', (8, 8), (0, 0, 0, 0)); im.paste((0, 0, 0, 255), (3, 0, 5, 8))
    else: im = Image.new('RGB', (8, 8), (180, 120, 60))
    im.save(path)
    return path


SHOE_PHOTOS = {'train': ['1031000079', '1135045020', '2429245001'], 'test': ['2429245009', '2510300061']}
SHOE_SKETCHES = {'1031000079': 2, '1135045020': 1, '2429245001': 0, '2429245009': 3, '2510300061': 1}   # photo -> #sketches


def shoev2_tree(out: Path) -> Path:
    "QMUL-ShoeV2 in the paired-folder layout: sketches `<split>A/<photo>_<k>.png`, photos `<split>B/<photo>.png`."
    for split, photos in SHOE_PHOTOS.items():
        for p in photos:
            image(out/f'{split}B'/f'{p}.png')
            for k in range(1, SHOE_SKETCHES[p] + 1): image(out/f'{split}A'/f'{p}_{k}.png', sketch=True)
    return out


CHAIR_PHOTOS = {'train': ['chair_01', 'chair_02', 'chair_03'], 'test': ['chair_04', 'chair_05']}


def chairv2_tree(out: Path) -> Path:
    "QMUL-ChairV2 as SketchX releases it: `ChairV2_photo/`, `ChairV2_sketch_png/` (+ unread `.svg` vectors), split lists."
    for split, photos in CHAIR_PHOTOS.items():
        sketches = [f'{p}_{k}' for p in photos for k in (1, 2)]
        for p in photos: image(out/'ChairV2_photo'/f'{p}.png')
        for s in sketches:
            image(out/'ChairV2_sketch_png'/f'{s}.png', sketch=True)
            (out/'ChairV2_sketch').mkdir(exist_ok=True); (out/'ChairV2_sketch'/f'{s}.svg').write_text('<svg/>')
        (out/f'photo_{split}.txt').write_text(''.join(f'{p}.png\n' for p in photos))
        (out/f'sketch_{split}.txt').write_text(''.join(f'{s}.svg\n' for s in sketches))
    return out


CUHK_PAIRS = {'f-005-01': 'F2-005-01', 'f-039-01': 'f-039-01', 'f1-001-01': 'f1-001-01', 'm-008-01': 'M2-008-01',
              'm-063-01': 'm-063-01', 'm1-041-01': 'm1-041-01'}   # photo -> sketch name (the release's F2/M2 prefixes)


def cuhk_student_tree(out: Path) -> Path:
    "CUHK student: `photo/<photo>.jpg` and `sketch/<sketch>-sz1.jpg`."
    for photo, sketch in CUHK_PAIRS.items():
        image(out/'photo'/f'{photo}.jpg'); image(out/'sketch'/f'{sketch}-sz1.jpg')
    return out


CUFSF_PHOTOS = ['00001fa010_930831.jpg', '00002.jpg', '00003_940128_fa.png', '00005.jpg', '00008.jpg', '00013.jpg']


def cufsf_tree(out: Path) -> Path:
    "CUFSF: the release's `original_sketch/<id5>.jpg`, and the FERET photos extracted to `original_photo/`."
    for name in CUFSF_PHOTOS:
        image(out/'original_photo'/name); image(out/'original_sketch'/f'{name[:5]}.jpg')
    return out


HAND_BUILT = {'shoev2': ('ShoeV2', shoev2_tree), 'chairv2': ('ChairV2_F', chairv2_tree),
              'cuhk_student': ('CUHK-student-dataset', cuhk_student_tree), 'cufsf': ('CUFSF', cufsf_tree)}


def make_tree(world, tmp_path: Path, reader: str) -> Path:
    "A fresh copy of the world's tree that `reader` reads (or a hand-built tree, for the formats the world does not write)."
    if reader in HAND_BUILT: return HAND_BUILT[reader][1](tmp_path/HAND_BUILT[reader][0])
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

def shoev2_missing_photo_folder(root):
    shutil.rmtree(root/'testB')
    return [str(root/'testB'), 'expected a folder of images']

def shoev2_sketch_without_photo(root):
    image(root/'testA'/'2429245777_1.png', sketch=True)
    return [str(root/'testA'/'2429245777_1.png'), "sketch of photo '2429245777'", 'not among the test photos (testB/)']

def shoev2_sketch_of_training_photo_in_test(root):
    image(root/'testA'/'1031000079_3.png', sketch=True)
    return [str(root/'testA'/'1031000079_3.png'), "sketch of photo '1031000079'", 'not among the test photos']

def shoev2_photo_in_train_and_test(root):
    shutil.copy(root/'trainB'/'1135045020.png', root/'testB'/'1135045020.png')
    return [str(root), "photos in both trainB/ and testB/: ['1135045020']"]

def shoev2_two_photos_one_name(root):
    image(root/'trainB'/'1135045020.jpg')
    return [str(root/'trainB'/'1135045020.png'), "a second photo named '1135045020' (after 1135045020.jpg)"]

def shoev2_sketch_without_number(root):
    image(root/'trainA'/'1135045020.png', sketch=True)
    return [str(root/'trainA'/'1135045020.png'), "sketch name '1135045020'", 'expected <photo name>_<number>']

def shoev2_no_test_sketches(root):
    for p in (root/'testA').glob('*.png'): p.unlink()
    return [str(root), 'the query split is empty', 'testA/']

def chairv2_sketch_listed_twice(root):
    append(root/'sketch_train.txt', lines(root/'sketch_train.txt')[0] + '\n')
    return [f"{root/'sketch_train.txt'}, line {len(lines(root/'sketch_train.txt'))}", "sketch 'chair_01_1' listed twice"]

def chairv2_listed_sketch_without_png(root):
    (root/'ChairV2_sketch_png'/'chair_04_2.png').unlink()
    return [f"{root/'sketch_test.txt'}, line 2", str(root/'ChairV2_sketch_png'/'chair_04_2.png'), 'does not exist']

def chairv2_missing_png_folder(root):
    shutil.rmtree(root/'ChairV2_sketch_png'); shutil.rmtree(root/'ChairV2_sketch')
    return [str(root), 'no folder ChairV2_sketch_png/ or ChairV2_sketch/', 'expected the rendered sketches']

def chairv2_only_vector_sketches(root):
    shutil.rmtree(root/'ChairV2_sketch_png')   # ChairV2_sketch/ holds the .svg vectors only
    return [f"{root/'sketch_train.txt'}, line 1", str(root/'ChairV2_sketch'/'chair_01_1.png'), 'does not exist']

def chairv2_test_sketch_in_train_list(root):
    append(root/'sketch_train.txt', 'chair_05_3.svg\n'); image(root/'ChairV2_sketch_png'/'chair_05_3.png', sketch=True)
    return [str(root/'ChairV2_sketch_png'/'chair_05_3.png'), "sketch of photo 'chair_05'", 'not among the train photos (photo_train.txt)']

def chairv2_photo_in_both_lists(root):
    append(root/'photo_test.txt', 'chair_02.png\n')
    return [str(root), "photos in both photo_train.txt and photo_test.txt: ['chair_02']"]

def chairv2_empty_test_list(root):
    (root/'photo_test.txt').write_text('\n'); (root/'sketch_test.txt').write_text('')
    return [str(root), 'the query split is empty', 'sketch_test.txt']

def cuhk_sketch_without_photo(root):
    image(root/'sketch'/'M2-062-01-sz1.jpg')
    return [str(root/'sketch'/'M2-062-01-sz1.jpg'), "sketch of 'm-062-01', whose photo is not in", str(root/'photo')]

def cuhk_two_sketches_of_one_person(root):
    image(root/'sketch'/'f2-005-01-sz1.jpg')   # the lower-case copy next to the release's F2-005-01-sz1.jpg
    return [str(root/'sketch'/'f2-005-01-sz1.jpg'), 'a second sketch of identity 1005 (after F2-005-01-sz1.jpg)']

def cuhk_photo_name_outside_pattern(root):
    image(root/'photo'/'f-005-01 (copy).jpg')
    return [str(root/'photo'/'f-005-01 (copy).jpg'), 'does not match the expected pattern']

def cuhk_missing_sketch_folder(root):
    shutil.rmtree(root/'sketch')
    return [str(root), 'expected that folder', 'photo, sketch']

def cufsf_sketch_without_photo(root):
    (root/'original_photo'/'00013.jpg').unlink()
    return [str(root/'original_sketch'/'00013.jpg'), "sketch of '00013', whose photo is not in", str(root/'original_photo')]

def cufsf_two_photos_of_one_person(root):
    image(root/'original_photo'/'00005_940422_fb.jpg')
    return [str(root/'original_photo'/'00005_940422_fb.jpg'), 'a second photo of identity 5 (after 00005.jpg)']

def cufsf_sketch_name_outside_pattern(root):
    image(root/'original_sketch'/'00008 copy.jpg')
    return [str(root/'original_sketch'/'00008 copy.jpg'), 'does not match the expected pattern']


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
    ('shoev2', shoev2_missing_photo_folder, FileNotFoundError),
    ('shoev2', shoev2_sketch_without_photo, DatasetFormatError),
    ('shoev2', shoev2_sketch_of_training_photo_in_test, DatasetFormatError),
    ('shoev2', shoev2_photo_in_train_and_test, DatasetFormatError),
    ('shoev2', shoev2_two_photos_one_name, DatasetFormatError),
    ('shoev2', shoev2_sketch_without_number, DatasetFormatError),
    ('shoev2', shoev2_no_test_sketches, DatasetFormatError),
    ('chairv2', chairv2_sketch_listed_twice, DatasetFormatError),
    ('chairv2', chairv2_listed_sketch_without_png, FileNotFoundError),
    ('chairv2', chairv2_missing_png_folder, FileNotFoundError),
    ('chairv2', chairv2_only_vector_sketches, FileNotFoundError),
    ('chairv2', chairv2_test_sketch_in_train_list, DatasetFormatError),
    ('chairv2', chairv2_photo_in_both_lists, DatasetFormatError),
    ('chairv2', chairv2_empty_test_list, DatasetFormatError),
    ('cuhk_student', cuhk_sketch_without_photo, DatasetFormatError),
    ('cuhk_student', cuhk_two_sketches_of_one_person, DatasetFormatError),
    ('cuhk_student', cuhk_photo_name_outside_pattern, DatasetFormatError),
    ('cuhk_student', cuhk_missing_sketch_folder, FileNotFoundError),
    ('cufsf', cufsf_sketch_without_photo, DatasetFormatError),
    ('cufsf', cufsf_two_photos_of_one_person, DatasetFormatError),
    ('cufsf', cufsf_sketch_name_outside_pattern, DatasetFormatError),
]
OPTIONS = {'cuhk_student': {'num_train': 2}, 'cufsf': {'num_train': 2}}   # the hand-built face trees hold 6 persons


@pytest.mark.parametrize('reader', sorted({r for r, _, _ in CASES}))
def test_unbroken_tree_reads(world, tmp_path, reader):
    "The trees before breaking: every reader reads its copy (so each failure below is the breakage's doing)."
    ds = load_dataset(reader, make_tree(world, tmp_path, reader), **OPTIONS.get(reader, {}))
    assert ds.train and ds.query and ds.gallery


@pytest.mark.parametrize('reader,breakage,exc', CASES, ids=[b.__name__ for _, b, _ in CASES])
def test_bad_tree_is_refused_naming_the_culprit(world, tmp_path, reader, breakage, exc):
    root = make_tree(world, tmp_path, reader)
    words = breakage(root)
    with pytest.raises(exc) as info: load_dataset(reader, root, **OPTIONS.get(reader, {}))
    assert all(w in str(info.value) for w in words), (words, str(info.value))


def test_decompression_bomb_names_the_file(world, tmp_path, monkeypatch):
    "PIL's DecompressionBombError (a huge image) becomes an ImageReadError naming the file."
    path = first(make_tree(world, tmp_path, 'market1501')/'query')
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 100)   # the world's 128x64 images are now 'bombs'
    with pytest.raises(ImageReadError) as info: load_image(path)
    assert str(path) in str(info.value) and 'decompression bomb' in str(info.value).lower()


@pytest.mark.parametrize('reader,counts', [  # (train records, train persons, query, gallery, protocol entries)
    ('shoev2', (3 + 3, 3, 4, 2, {'layout': 'folders', 'photos_without_sketch': {'train': 1, 'test': 0}, 'ranks': (1, 10)})),
    ('chairv2', (3 + 6, 3, 4, 2, {'layout': 'lists', 'unlisted_images': 0, 'photos_without_sketch': {'train': 0, 'test': 0}})),
    ('cuhk_student', (2 * 2, 2, 4, 4, {'trial': 0, 'num_train': 2, 'unpaired_photos': 0, 'ranks': (1,)})),
    ('cufsf', (2 * 2, 2, 4, 4, {'trial': 0, 'num_train': 2, 'unpaired_photos': 0})),
])
def test_hand_built_sketch_photo_trees_read_with_their_counts(tmp_path, reader, counts):
    "The hand-built real-layout trees: exact counts, sketches query the test photos, each sketch's one true photo is there."
    n_train, n_ids, n_query, n_gallery, protocol = counts
    folder, build = HAND_BUILT[reader]
    ds = load_dataset(reader, build(tmp_path/folder), verify=True, **OPTIONS.get(reader, {}))
    assert [len(ds.train), ds.num_train_pids, len(ds.query), len(ds.gallery)] == [n_train, n_ids, n_query, n_gallery]
    assert protocol.items() <= ds.protocol.items()
    assert {(r.modality, r.camid) for r in ds.query} == {('sketch', -1)} and {(r.modality, r.camid) for r in ds.gallery} == {('rgb', 0)}
    gallery_pids = [r.pid for r in ds.gallery]
    assert len(set(gallery_pids)) == len(gallery_pids) and all(gallery_pids.count(r.pid) == 1 for r in ds.query)
    assert {r.path for r in ds.train}.isdisjoint(r.path for r in ds.query + ds.gallery)
    if reader in ('shoev2', 'chairv2'):   # a rendered RGBA sketch reads as a black stroke on white, not as a black square
        sketch = load_image(ds.query[0].path)
        assert (sketch.getpixel((0, 0)), sketch.getpixel((4, 4))) == ((255, 255, 255), (0, 0, 0))
