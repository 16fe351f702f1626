"Package setup: everything is read from settings.ini (nbdev 2 convention)."
from configparser import ConfigParser
from pathlib import Path
import setuptools

cfg = ConfigParser(delimiters=['='])
cfg.read(Path(__file__).parent / 'settings.ini', encoding='utf-8')
c = cfg['DEFAULT']
licenses = {'apache2': ('Apache Software License 2.0', 'OSI Approved :: Apache Software License')}
statuses = ['1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta', '5 - Production/Stable']
lic = licenses[c['license']]
readme = Path(__file__).parent / 'README.md'

setuptools.setup(
    name=c['lib_name'],
    version=c['version'],
    description=c['description'],
    long_description=readme.read_text(encoding='utf-8') if readme.exists() else '',
    long_description_content_type='text/markdown',
    author=c['author'],
    author_email=c['author_email'],
    license=lic[0],
    url=c['git_url'],
    classifiers=['Development Status :: ' + statuses[int(c['status'])],
                 'Intended Audience :: ' + c['audience'],
                 'License :: ' + lic[1],
                 'Natural Language :: ' + c['language'],
                 'Programming Language :: Python :: 3'],
    keywords=c['keywords'],
    packages=setuptools.find_packages(include=[c['lib_name'], c['lib_name'] + '.*']),
    include_package_data=True,
    python_requires='>=' + c['min_python'],
    install_requires=c['requirements'].split(),
    extras_require={'dev': c['dev_requirements'].split()},
    entry_points={'console_scripts': c['console_scripts'].split(),
                  'nbdev': [f"{c['lib_path']}={c['lib_path']}._modidx:d"]},
    zip_safe=False,
)
