"""Fixtures for the site tests: the hook modules importable, a build of the fixture pages.

The real build of content/ is ``built_site`` in tests/conftest.py (once per session).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mkdocs.utils.yaml import yaml_load

ROOT = Path(__file__).resolve().parents[2]
HOOKS = ROOT / "site" / "hooks"
FIXTURE_DOCS = Path(__file__).resolve().parent / "fixture_docs"

if str(HOOKS) not in sys.path:
    sys.path.insert(0, str(HOOKS))


def brug_config() -> dict:
    """mkdocs.yml as MkDocs reads it (``!ENV`` resolved from this environment)."""
    with (ROOT / "mkdocs.yml").open(encoding="utf-8") as handle:
        return yaml_load(handle)


def write_config(folder: Path, docs_dir: Path, site_dir: Path) -> Path:
    """A mkdocs.yml that inherits Brug's and only moves the docs and site folders.

    Paths in an inherited config resolve against the child config, so the hooks and the theme
    folder are repeated as absolute paths.
    """
    hooks = brug_config()["hooks"]
    config = folder / "mkdocs.yml"
    config.write_text(
        f"INHERIT: {ROOT / 'mkdocs.yml'}\n"
        f"docs_dir: {docs_dir}\n"
        f"site_dir: {site_dir}\n"
        f"hooks: [{', '.join(str(ROOT / hook) for hook in hooks)}]\n"
        f"theme:\n  custom_dir: {ROOT / 'site' / 'overrides'}\n",
        encoding="utf-8",
    )
    return config


def mkdocs_build(
    config: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The real CLI: `mkdocs build --strict` with the given config (and extra environment)."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **(env or {})},
    )


@pytest.fixture
def docs_copy(tmp_path: Path) -> Path:
    """A private copy of the fixture pages that a test may break."""
    docs = tmp_path / "docs"
    shutil.copytree(FIXTURE_DOCS, docs)
    return docs


@pytest.fixture(scope="session")
def fixture_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture pages (tests/site/fixture_docs) built once with Brug's config."""
    folder = tmp_path_factory.mktemp("fixture_build")
    site = folder / "site"
    result = mkdocs_build(write_config(folder, FIXTURE_DOCS, site))
    if result.returncode != 0:
        pytest.fail(f"fixture build failed:\n{result.stderr}")
    return site
