"""Writing pages into ``content/`` and putting a new build of the site live, safely.

- ``render_page``: front matter (the one schema, dumped and read back) plus a safe body.
- Content writers (chosen by ``CONTENT_WRITER``): ``FileSystemWriter`` writes new files only,
  never overwriting and never outside the content folder; ``GitWriter`` also commits each change
  with a neutral author and a message without personal data.
- ``Publisher``: builds the site into a fresh release folder (``build/releases/<stamp>``) and
  switches the live pointer (``build/site``, a symlink) atomically: a new link renamed over the
  old one. The previous release stays for rollback; older ones are pruned. A failed build
  leaves the live site untouched. A file lock (``build/.lock``) serialises builds across
  threads and processes.
- ``BuildWorker``: one background thread per process that runs waiting build requests.

``python -m forms_backend.publishing`` builds and switches without a database or secret key
(``make build``); ``python -m forms_backend.publishing release DOCS OUT`` is the build step
that runs in a child process.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from forms_backend.content import PageMeta, dump_front_matter, validate_front_matter

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
MKDOCS_YML = ROOT / "mkdocs.yml"
_PAGE_PATH = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*/[a-z0-9]+(?:-[a-z0-9]+)*\.md$")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
NEUTRAL_AUTHOR = ("Brug publicatie", "publicatie@brug.example.nl")


class WriteError(RuntimeError):
    """A page could not be written or removed (Dutch message)."""


# ---------------------------------------------------------------------------------------------
# pages


def render_page(meta: PageMeta, body: str) -> str:
    """The page file: YAML front matter from the schema, then the (already safe) body."""
    front = yaml.safe_dump(dump_front_matter(meta), sort_keys=False, allow_unicode=True, width=1000)
    text = f"---\n{front}---\n\n{body.strip()}\n"
    read_back = read_front_matter(text)
    validate_front_matter(read_back, "nieuwe pagina")  # what the build will read, checked now
    return text


def read_front_matter(text: str) -> dict[str, Any]:
    """Front matter the way MkDocs reads it."""
    from mkdocs.utils.meta import get_data

    return dict(get_data(text)[1])


# ---------------------------------------------------------------------------------------------
# content writers


class ContentWriter(Protocol):
    content_dir: Path

    def write_new(self, folder: str, slug: str, text: str, *, message: str) -> str:
        """Write a new page ``folder/slug[-n].md``; returns its path relative to content."""

    def remove(self, path: str, *, message: str) -> None:
        """Remove a page this writer wrote."""


class FileSystemWriter:
    """Writes new pages into the content folder; never overwrites, never leaves the folder."""

    def __init__(self, content_dir: str | os.PathLike[str]) -> None:
        self.content_dir = Path(content_dir)

    def _target(self, path: str) -> Path:
        if not _PAGE_PATH.match(path):
            raise WriteError(f"ongeldig paginapad: {path!r}")
        root = Path(os.path.realpath(self.content_dir))
        target = Path(os.path.realpath(root / path))
        if target.parent.parent != root:
            raise WriteError(f"paginapad buiten de inhoudsmap: {path!r}")
        return target

    def write_new(self, folder: str, slug: str, text: str, *, message: str) -> str:
        (self.content_dir / folder).mkdir(parents=True, exist_ok=True)
        for number in range(1, 1000):
            path = f"{folder}/{slug}.md" if number == 1 else f"{folder}/{slug}-{number}.md"
            target = self._target(path)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(text, encoding="utf-8")
            try:
                os.link(tmp, target)  # atomic, and fails if the name is taken: never overwrites
            except FileExistsError:
                continue
            finally:
                tmp.unlink(missing_ok=True)
            self._after_write(path, message)
            return path
        raise WriteError("geen vrije bestandsnaam gevonden")

    def remove(self, path: str, *, message: str) -> None:
        target = self._target(path)
        target.unlink(missing_ok=True)
        self._after_remove(path, message)

    def _after_write(self, path: str, message: str) -> None:
        pass

    def _after_remove(self, path: str, message: str) -> None:
        pass


class GitWriter(FileSystemWriter):
    """Like the file-system writer, and commits each page with a neutral author.

    Only the page's own path is committed (``git commit -- path``), so other work in the tree
    is never swept in. The message names the page path, never the submitter.
    """

    _lock = threading.Lock()

    def _git(self, *args: str) -> None:
        name, email = NEUTRAL_AUTHOR
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }
        for attempt in range(20):
            result = subprocess.run(  # noqa: S603 - fixed argv, no shell
                ["git", "-c", "commit.gpgsign=false", *args],  # noqa: S607 - git from PATH
                cwd=self.content_dir,
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )
            if result.returncode == 0:
                return
            if "index.lock" in result.stderr and attempt < 19:
                time.sleep(0.25)
                continue
            raise WriteError(f"git {args[0]} mislukt: {result.stderr.strip()[:300]}")

    def _after_write(self, path: str, message: str) -> None:
        with self._lock:
            self._git("add", "--", path)
            self._git("commit", "--quiet", "--no-verify", "-m", message, "--", path)

    def _after_remove(self, path: str, message: str) -> None:
        with self._lock:
            self._git("rm", "--quiet", "--cached", "--ignore-unmatch", "--", path)
            self._git(
                "commit", "--quiet", "--no-verify", "--allow-empty", "-m", message, "--", path
            )


class UndoableWriter:
    """A writer that remembers what it wrote and removed, so a request whose database
    transaction fails afterwards can put the content folder back (``undo``). Without it an
    approval whose COMMIT failed left its page behind: the next build published a page the
    database did not know, and approving again wrote a second copy (``slug-2.md``)."""

    def __init__(self, inner: ContentWriter) -> None:
        self.inner = inner
        self.content_dir = inner.content_dir
        self._undo: list[Callable[[], object]] = []

    def write_new(self, folder: str, slug: str, text: str, *, message: str) -> str:
        path = self.inner.write_new(folder, slug, text, message=message)
        self._undo.append(lambda: self.inner.remove(path, message=f"Teruggedraaid: {path}"))
        return path

    def remove(self, path: str, *, message: str) -> None:
        target = self.content_dir / path
        text = target.read_text(encoding="utf-8") if target.is_file() else None
        self.inner.remove(path, message=message)
        if text is not None:
            folder, _, name = path.rpartition("/")
            slug = name.removesuffix(".md")
            self._undo.append(
                lambda: self.inner.write_new(folder, slug, text, message=f"Teruggezet: {path}")
            )

    def undo(self) -> None:
        """Undo every write and removal, the last one first; a step that fails is logged."""
        while self._undo:
            step = self._undo.pop()
            try:
                step()
            except (WriteError, OSError):
                log.exception("could not undo a content change")


def make_writer(kind: str | ContentWriter, content_dir: str | os.PathLike[str]) -> ContentWriter:
    if not isinstance(kind, str):
        return kind
    if kind == "git":
        return GitWriter(content_dir)
    if kind == "filesystem":
        return FileSystemWriter(content_dir)
    raise ValueError(f"CONTENT_WRITER moet 'filesystem' of 'git' zijn, niet {kind!r}")


# ---------------------------------------------------------------------------------------------
# releases and the live pointer


@dataclass(frozen=True)
class Outcome:
    ok: bool
    release: str | None
    message: str
    seconds: float


@dataclass
class Publisher:
    """Builds releases and switches the live pointer (``site_dir``) between them."""

    content_dir: Path
    site_dir: Path
    releases_dir: Path
    config_file: Path = MKDOCS_YML
    keep: int = 3
    timeout: float = 900.0
    public_url: str | None = None  # the site's address for canonical links and the sitemap

    @classmethod
    def from_config(cls, config: Any) -> Publisher:
        site_dir = Path(config["SITE_DIR"])
        releases = config.get("RELEASES_DIR") or site_dir.parent / "releases"
        return cls(
            content_dir=Path(config["CONTENT_DIR"]),
            site_dir=site_dir,
            releases_dir=Path(releases),
            config_file=Path(config.get("MKDOCS_CONFIG") or MKDOCS_YML),
            keep=int(config.get("BUILD_KEEP", 3)),
            public_url=config.get("PUBLIC_URL") or None,
        )

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """One build at a time across threads and processes (``flock`` on ``.lock``)."""
        path = self.site_dir.parent / ".lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def build(self) -> Outcome:
        with self.lock():
            return self.build_locked()

    def build_locked(self) -> Outcome:
        """Build a fresh release and, if it is complete, make it live. Caller holds the lock."""
        started = time.monotonic()
        self.releases_dir.mkdir(parents=True, exist_ok=True)
        name = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        target = self.releases_dir / name
        work = self.releases_dir / f".{name}.building"
        command = [
            sys.executable,
            "-m",
            "forms_backend.publishing",
            "release",
            "--config",
            str(self.config_file),
            str(self.content_dir),
            str(work),
        ]
        try:
            result = subprocess.run(  # noqa: S603 - fixed argv, no shell
                command,
                cwd=self.config_file.parent,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
                env=self._build_env(),
            )
            failure = (
                None
                if result.returncode == 0
                else build_message(result.stdout + result.stderr, self.content_dir)
            )
        except subprocess.TimeoutExpired:
            failure = f"De build duurde langer dan {int(self.timeout)} seconden en is gestopt."
        if failure is None and not (work / "index.html").is_file():
            failure = "De build maakte geen index.html."
        if failure is not None:
            shutil.rmtree(work, ignore_errors=True)
            log.warning("site build failed; the previous release stays live")
            return Outcome(False, None, failure, time.monotonic() - started)
        work.rename(target)
        self.switch(target)
        self.prune()
        return Outcome(
            True, name, "De nieuwe versie van de site staat live.", time.monotonic() - started
        )

    def _build_env(self) -> dict[str, str]:
        env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
        if self.public_url:  # mkdocs.yml: site_url: !ENV BRUG_PUBLIC_URL
            env["BRUG_PUBLIC_URL"] = self.public_url
        current = self.current()
        if current is not None:  # unchanged files reuse its gzip copies (site/hooks/brug_compress)
            env["BRUG_PREVIOUS_RELEASE"] = str(current)
        return env

    def current(self) -> Path | None:
        if not self.site_dir.is_symlink():
            return None
        return Path(os.path.realpath(self.site_dir))

    def releases(self) -> list[Path]:
        if not self.releases_dir.is_dir():
            return []
        return sorted(
            p for p in self.releases_dir.iterdir() if p.is_dir() and not p.name.startswith(".")
        )

    def switch(self, release: Path) -> None:
        """Point the live site at ``release`` atomically (rename of a fresh symlink)."""
        self.site_dir.parent.mkdir(parents=True, exist_ok=True)
        self.releases_dir.mkdir(parents=True, exist_ok=True)
        if self.site_dir.exists() and not self.site_dir.is_symlink():
            # An older checkout built straight into build/site: keep it as a release.
            self.site_dir.rename(self.releases_dir / "00000000T000000000000Z-eerder")
        relative = os.path.relpath(release, self.site_dir.parent)
        tmp = self.site_dir.with_name(
            f".{self.site_dir.name}.{os.getpid()}.{threading.get_ident()}.tmp"
        )
        tmp.unlink(missing_ok=True)
        os.symlink(relative, tmp)
        os.replace(tmp, self.site_dir)

    def previous(self) -> Path | None:
        current = self.current()
        older = [r for r in self.releases() if current is None or r.name < current.name]
        return older[-1] if older else None

    def rollback(self) -> Path:
        with self.lock():
            previous = self.previous()
            if previous is None:
                raise WriteError("er is geen eerdere versie om naar terug te gaan")
            self.switch(previous)
            return previous

    def prune(self) -> None:
        """Keep the newest ``keep`` releases and whatever is live."""
        current = self.current()
        releases = self.releases()
        for release in releases[: max(len(releases) - self.keep, 0)]:
            if release != current:
                shutil.rmtree(release, ignore_errors=True)


# MkDocs' own messages, in Dutch for the moderator; anything else is shown as it came.
_TRANSLATIONS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            r"Doc file '(?P<page>[^']+)' contains a link '(?P<link>[^']*)', but the target "
            r".* is not found among documentation files\."
        ),
        "op de pagina content/{page} staat een link naar '{link}', maar die pagina bestaat niet.",
    ),
    (
        re.compile(
            r"Doc file '(?P<page>[^']+)' contains an? (?:absolute|unrecognized relative) link "
            r"'(?P<link>[^']*)'.*"
        ),
        "op de pagina content/{page} staat een link '{link}' die de build niet kan nagaan. "
        "Gebruik een link naar een .md-bestand of een volledig webadres.",
    ),
    (
        re.compile(r"Aborted with (?P<count>\d+) warnings? in strict mode!"),
        "de build is gestopt na {count} waarschuwingen: de site wordt alleen bijgewerkt als er "
        "geen enkele is.",
    ),
    (re.compile(r"Aborted with a BuildError!"), "de build is gestopt."),
]
_LEVEL = re.compile(r"^(?P<level>ERROR|WARNING|INFO)\s*-?\s*(?P<text>.*)$")
_LEVELS = {"ERROR": "Fout", "WARNING": "Waarschuwing", "INFO": "Melding"}


def _in_dutch(line: str) -> str:
    match = _LEVEL.match(line)
    level, text = (match.group("level"), match.group("text")) if match else ("", line)
    for pattern, template in _TRANSLATIONS:
        found = pattern.fullmatch(text.strip())
        if found:
            text = template.format(**found.groupdict())
            break
    return f"{_LEVELS[level]}: {text}" if level else text


def build_message(output: str, content_dir: Path) -> str:
    """The useful part of a failed build's output, for the moderator: in Dutch where MkDocs
    spoke English, each line once (the log came on stdout and stderr), paths as content/..."""
    content = re.compile(
        r"[^\s'\"]*?" + re.escape(str(content_dir).lstrip(os.sep)) + re.escape(os.sep)
    )
    lines: list[str] = []
    for raw in output.splitlines():
        line = content.sub("content/", _ANSI.sub("", raw).rstrip())
        if line.strip() and line not in lines:
            lines.append(line)
    important = [
        line for line in lines if re.search(r"ERROR|WARNING|Error|ongeldig|Aborted|  - ", line)
    ]
    chosen = [_in_dutch(line) for line in (important or lines)[-25:]]
    return "\n".join(chosen)[-4000:] or "De build is mislukt zonder melding."


# ---------------------------------------------------------------------------------------------
# the worker thread of the embedded default


class BuildWorker:
    """Runs waiting build requests in one background thread; ``wake()`` after a request."""

    def __init__(
        self, run: Callable[[], object], *, poll: float = 3.0, name: str = "brug-build"
    ) -> None:
        self._run, self._poll, self._name = run, poll, name
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def wake(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the thread after its current round (a running build finishes first)."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self._run()
            except Exception:  # keep the worker alive; the request stays queued for the next round
                log.exception("build round failed")
            self._wake.wait(self._poll)


# ---------------------------------------------------------------------------------------------
# command line


def _build_release(config_file: str, docs_dir: str, site_dir: str) -> None:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    config = load_config(config_file=config_file, docs_dir=docs_dir, site_dir=site_dir, strict=True)
    build(config)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m forms_backend.publishing")
    sub = parser.add_subparsers(dest="command")
    release = sub.add_parser("release", help="build the site into one folder (child process)")
    release.add_argument("--config", default=str(MKDOCS_YML))
    release.add_argument("docs_dir")
    release.add_argument("site_dir")
    sub.add_parser("publish", help="build a release and make it live (default)")
    sub.add_parser("rollback", help="make the previous release live again")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    if args.command == "release":
        from mkdocs.exceptions import Abort, BuildError, ConfigurationError, PluginError

        try:
            _build_release(args.config, args.docs_dir, args.site_dir)
        except (Abort, BuildError, ConfigurationError, PluginError) as exc:
            print(f"ERROR {exc}", file=sys.stderr)
            return 1
        return 0
    from forms_backend import default_config

    config = default_config()
    for key in ("SITE_DIR", "CONTENT_DIR", "RELEASES_DIR", "BUILD_KEEP", "PUBLIC_URL"):
        if f"BRUG_{key}" in os.environ:
            config[key] = os.environ[f"BRUG_{key}"]
    publisher = Publisher.from_config(config)
    if args.command == "rollback":
        print(f"Live: {publisher.rollback().name}")
        return 0
    outcome = publisher.build()
    if not outcome.ok:
        print(outcome.message, file=sys.stderr)
        print("Bouwen mislukt; de vorige versie blijft live.", file=sys.stderr)
        return 1
    print(
        f"Site gebouwd in {outcome.seconds:.1f} s; live: {publisher.site_dir} -> {outcome.release}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
