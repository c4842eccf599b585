"""MkDocs hook: a gzip copy next to every compressible file of the build.

Runs last (after every other hook has written its output). For each text file above MIN_SIZE it
writes ``<file>.gz`` (gzip level 9, mtime 0 and no file name in the header, so the same input
always gives the same bytes). The embedded server (forms_backend.views.core) and nginx
(``gzip_static on``) send the copy to browsers that accept gzip; nothing compresses per request.
"""

from __future__ import annotations

import gzip
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig

log = logging.getLogger("mkdocs.plugins.brug.compress")

SUFFIXES = frozenset({".html", ".css", ".js", ".json", ".xml", ".svg", ".txt", ".ics"})
# Below about 1 KB gzip saves less than a packet and its header costs more than it saves.
MIN_SIZE = 1024


def compress_file(path: Path) -> bool:
    """Write ``path.gz`` if it is smaller than ``path``; remove a stale one otherwise."""
    data = path.read_bytes()
    target = path.with_name(path.name + ".gz")
    # gzip.compress(mtime=0) leaves the file name out of the header: deterministic output.
    packed = gzip.compress(data, compresslevel=9, mtime=0)
    if len(packed) >= len(data):
        target.unlink(missing_ok=True)
        return False
    if not target.exists() or target.read_bytes() != packed:
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(packed)
        os.replace(tmp, target)
    return True


def compress_tree(root: Path) -> int:
    """Compress every eligible file under ``root``; return how many .gz files it holds."""
    todo = []
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            path = Path(dirpath, name)
            if path.suffix not in SUFFIXES:
                continue
            if path.stat().st_size <= MIN_SIZE:
                path.with_name(name + ".gz").unlink(missing_ok=True)
            else:
                todo.append(path)
    # zlib releases the GIL: a few threads compress a large build in a fraction of the time.
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        return sum(pool.map(compress_file, todo))


def on_post_build(config: MkDocsConfig) -> None:
    count = compress_tree(Path(config.site_dir))
    log.debug("brug_compress: %d gzip files in %s", count, config.site_dir)
