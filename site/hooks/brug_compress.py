"""MkDocs hook: a gzip copy next to every compressible file of the build.

Runs last (after every other hook has written its output). For each text file above MIN_SIZE it
writes ``<file>.gz`` (gzip level ``LEVEL``, mtime 0 and no file name in the header, so the same
input always gives the same bytes). The embedded server (forms_backend.views.core) and nginx
(``gzip_static on``) send the copy to browsers that accept gzip; nothing compresses per request.

A new release differs from the live one in a few files (an approved page, its overviews, the
search index, the sitemap). When the environment names the live release
(``BRUG_PREVIOUS_RELEASE``, set by forms_backend.publishing), a file whose bytes are the same
there gets a hard link to that release's ``.gz`` instead of being compressed again: the same
bytes, since the output is deterministic. Only changed files are compressed, after the build,
in a thread pool (zlib releases the GIL). Compressing everything cost about a second of the 15 s
from approval to live at 1,000 pages (bench/results/publish.md). Compressing pages while MkDocs
was still rendering was tried and made a full build slower: the threads and the renderer took
turns with the GIL (bench/results/build.md).
"""

from __future__ import annotations

import gzip
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig

log = logging.getLogger("mkdocs.plugins.brug.compress")

SUFFIXES = frozenset({".html", ".css", ".js", ".json", ".xml", ".svg", ".txt", ".ics"})
# Below about 1 KB gzip saves less than a packet and its header costs more than it saves.
MIN_SIZE = 1024
# zlib's default level. On the real site's 118 text files (2.9 MB) level 9 took 2.7 times the
# CPU (227 ms against 83 ms) for 0.5 % fewer bytes (741 KB against 745 KB); the backend compresses
# its own pages at this level too (forms_backend.views.core).
LEVEL = 6
PREVIOUS_ENV = "BRUG_PREVIOUS_RELEASE"


def _gz(path: Path) -> Path:
    return path.with_name(path.name + ".gz")


def _replace(target: Path, write: Callable[[Path], object]) -> None:
    """Put a new file at ``target`` in one step (readers never see half a file)."""
    tmp = target.with_name(target.name + ".tmp")
    tmp.unlink(missing_ok=True)
    write(tmp)
    os.replace(tmp, target)


def compress_file(path: Path) -> bool:
    """Write ``path.gz`` if it is smaller than ``path``; remove a stale one otherwise."""
    return compress_bytes(path.read_bytes(), path)


def compress_bytes(data: bytes, path: Path) -> bool:
    """Write ``path.gz`` for ``data`` (the bytes ``path`` holds or is about to hold)."""
    target = _gz(path)
    if len(data) <= MIN_SIZE:
        target.unlink(missing_ok=True)
        return False
    # gzip.compress(mtime=0) leaves the file name out of the header: deterministic output.
    packed = gzip.compress(data, compresslevel=LEVEL, mtime=0)
    if len(packed) >= len(data):
        target.unlink(missing_ok=True)
        return False
    if not target.exists() or target.read_bytes() != packed:
        _replace(target, lambda tmp: tmp.write_bytes(packed))
    return True


class Packer:
    """The gzip copies of one build: reused from ``previous`` where a file is unchanged."""

    def __init__(self, site_dir: Path, previous: Path | None = None) -> None:
        self.site_dir = site_dir
        if previous is not None and previous.resolve() == site_dir.resolve():
            previous = None
        self.previous = previous
        self.pool = ThreadPoolExecutor(
            max_workers=min(8, os.cpu_count() or 1), thread_name_prefix="brug-gzip"
        )
        self.results: dict[str, Future[bool]] = {}
        self.reused = 0  # counted by the pool's threads, under the lock
        self._lock = threading.Lock()

    def add(self, path: Path) -> None:
        """Link or compress ``path`` in the pool; the file is read there, so no more than the
        pool's few files are held in memory at once (not the whole site)."""
        self.results[str(path)] = self.pool.submit(self._pack, path)

    def _pack(self, path: Path) -> bool:
        data = path.read_bytes()
        if self._reuse(data, path):
            return True
        return compress_bytes(data, path)

    def _reuse(self, data: bytes, path: Path) -> bool:
        if self.previous is None or len(data) <= MIN_SIZE:
            return False
        old = self.previous / path.relative_to(self.site_dir)
        try:
            if old.stat().st_size != len(data) or old.read_bytes() != data:
                return False
            _replace(_gz(path), lambda tmp: os.link(_gz(old), tmp))
        except OSError:  # no copy there (small, or not smaller), or another file system
            return False
        with self._lock:
            self.reused += 1
        return True

    def add_tree(self) -> None:
        """Every eligible file of the finished build."""
        for dirpath, _dirnames, filenames in os.walk(self.site_dir):
            for name in filenames:
                path = Path(dirpath, name)
                if path.suffix not in SUFFIXES or str(path) in self.results:
                    continue
                if path.stat().st_size <= MIN_SIZE:
                    _gz(path).unlink(missing_ok=True)
                else:
                    self.add(path)

    def finish(self) -> int:
        """Wait for the pool; raise the first failure. Returns how many .gz files there are."""
        try:
            return sum(result.result() for result in self.results.values())
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)


def compress_tree(root: Path, previous: Path | None = None) -> int:
    """Compress every eligible file under ``root``; return how many .gz files it holds."""
    packer = Packer(root, previous)
    packer.add_tree()
    return packer.finish()


def on_post_build(config: MkDocsConfig) -> None:
    previous = os.environ.get(PREVIOUS_ENV)
    packer = Packer(Path(config.site_dir), Path(previous) if previous else None)
    packer.add_tree()
    count = packer.finish()
    log.debug(
        "brug_compress: %d gzip files in %s, %d reused", count, config.site_dir, packer.reused
    )
