"""The package is complete: the wheel holds every file of forms_backend, and the app's forms run
from an installed copy alone (migrations, templates, programme data), not from this checkout.

Production installs the checkout in place (README: `pip install -e .`), because approving a
submission rebuilds the site from the checkout's mkdocs.yml, site/ and content/; an earlier
README said `pip install .`, and that wheel lacked forms_backend.views."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # From a copy of the checkout's files: setuptools reuses what an earlier build left in
    # build/lib, which would hide a file the package configuration leaves out.
    source = tmp_path_factory.mktemp("source")
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(source)],
        capture_output=True, text=True, check=False, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (built,) = out.glob("brug-*.whl")
    return built


def test_the_wheel_holds_every_tracked_file_of_the_backend(wheel: Path) -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "forms_backend"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert len(tracked) > 50
    in_wheel = {n for n in zipfile.ZipFile(wheel).namelist() if n.startswith("forms_backend/")}
    assert sorted(set(tracked) - in_wheel) == []


def test_the_app_runs_from_the_installed_copy(wheel: Path, tmp_path: Path) -> None:
    installed = tmp_path / "installed"
    zipfile.ZipFile(wheel).extractall(installed)
    script = textwrap.dedent(
        f"""
        import sys
        # This venv holds an editable install of the checkout: its finder would supply any
        # module the wheel lacks. Drop it, so only the installed copy can answer.
        sys.meta_path[:] = [
            f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")
        ]
        sys.path[:] = [p for p in sys.path if "__editable__" not in p]
        sys.path.insert(0, {str(installed)!r})
        import forms_backend
        assert forms_backend.__file__.startswith({str(installed)!r}), forms_backend.__file__
        from forms_backend import create_app, db
        url = "sqlite:///{tmp_path}/brug.sqlite3"
        db.upgrade(url)
        app = create_app({{"DATABASE_URL": url, "SECRET_KEY": "x", "SITE_DIR": {str(tmp_path)!r},
                           "TESTING": True}})
        client = app.test_client()
        for path in ("/aanmelden/cosa", "/agenda/", "/inzenden/praktijk", "/beheer/inloggen"):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        loaded = [m.__file__ for n, m in sys.modules.items()
                  if n.startswith("forms_backend") and getattr(m, "__file__", None)]
        assert loaded and all(f.startswith({str(installed)!r}) for f in loaded), loaded
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False,
        timeout=120,
    )
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-3000:]
