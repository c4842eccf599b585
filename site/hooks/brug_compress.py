"""MkDocs hook: a gzip copy next to every compressible file of the build.

Runs last (after every other hook has written its output). For each text file above MIN_SIZE it
writes ``<file>.gz`` (gzip level 9, mtime 0 and no file name in the header, so the same input
always gives the same bytes). The embedded server (forms_backend.views.core) and nginx
(``gzip_static on``) send the copy to browsers that accept gzip; nothing compresses per request.

Pages are compressed while the build goes on: ``on_post_page`` hands each page's final HTML to
a thread pool (zlib releases the GIL, so the second core packs while MkDocs renders the next
page on the first), and ``on_post_build`` packs only the files that are not pages (assets,
search index, sitemap) and waits for the rest. Compressing after the build cost about a second
of the 15 s from approval to live at 1,000 pages (bench/results/publish.md).
"""

from __future__ import annotations

import gzip
import logging
import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.plugins.brug.compress")

SUFFIXES = frozenset({".html", ".css", ".js", ".json", ".xml", ".svg", ".txt", ".ics"})
# Below about 1 KB gzip saves less than a packet and its header costs more than it saves.
MIN_SIZE = 1024


def compress_file(path: Path) -> bool:
    """Write ``path.gz`` if it is smaller than ``path``; remove a stale one otherwise."""
    return compress_bytes(path.read_bytes(), path)


def compress_bytes(data: bytes, path: Path, *, make_folder: bool = False) -> bool:
    """Write ``path.gz`` for ``data`` (the bytes ``path`` holds or will hold)."""
    if make_folder:  # a page's folder may not exist yet: MkDocs writes the page after us
        path.parent.mkdir(parents=True, exist_ok=True)
    if len(data) <= MIN_SIZE:
        path.with_name(path.name + ".gz").unlink(missing_ok=True)
        return False
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


def compress_tree(root: Path, *, done: frozenset[str] = frozenset()) -> int:
    """Compress every eligible file under ``root`` except those in ``done`` (paths as str)."""
    todo = []
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            path = Path(dirpath, name)
            if path.suffix not in SUFFIXES or str(path) in done:
                continue
            if path.stat().st_size <= MIN_SIZE:
                path.with_name(name + ".gz").unlink(missing_ok=True)
            else:
                todo.append(path)
    # zlib releases the GIL: a few threads compress a large build in a fraction of the time.
    with ThreadPoolExecutor(max_workers=_workers()) as pool:
        return sum(pool.map(compress_file, todo))


def _workers() -> int:
    return min(8, os.cpu_count() or 1)


class _Pages:
    """Pages handed to the pool during one build."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=_workers(), thread_name_prefix="brug-gzip")
        self.futures: dict[str, Future[bool]] = {}

    def add(self, output: str, path: Path) -> None:
        # The bytes MkDocs writes for the page (mkdocs.commands.build._build_page).
        data = output.encode("utf-8", errors="xmlcharrefreplace")
        self.futures[str(path)] = self.pool.submit(compress_bytes, data, path, make_folder=True)

    def finish(self) -> tuple[frozenset[str], int]:
        """Wait for every page; raise the first failure. Returns the paths and the count."""
        try:
            count = sum(future.result() for future in self.futures.values())
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)
        return frozenset(self.futures), count


_pages: _Pages | None = None


def on_pre_build(config: MkDocsConfig) -> None:
    global _pages
    _pages = _Pages()


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    if _pages is not None and page.file.abs_dest_path.endswith(tuple(SUFFIXES)):
        _pages.add(output, Path(page.file.abs_dest_path))
    return output


def on_build_error(error: Exception) -> None:
    global _pages
    if _pages is not None:
        _pages.pool.shutdown(wait=True, cancel_futures=True)
        _pages = None


def on_post_build(config: MkDocsConfig) -> None:
    global _pages
    pages, _pages = _pages, None
    done, count = pages.finish() if pages is not None else (frozenset(), 0)
    count += compress_tree(Path(config.site_dir), done=done)
    log.debug("brug_compress: %d gzip files in %s", count, config.site_dir)
