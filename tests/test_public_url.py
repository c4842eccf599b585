"""Links in mails point to the port `make serve` listens on, not always to the default 8000."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from forms_backend.cli import link_warning

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("target", ["db", "serve"])
def test_make_passes_the_served_address_as_public_url(target: str) -> None:
    """`make serve PORT=8123` renders the demo mails and serves with links to :8123 (a dry run
    of make: the recipe, as the shell would get it)."""
    if shutil.which("make") is None:
        pytest.skip("make is missing")
    recipe = subprocess.run(
        ["make", "-n", "-B", target, "PORT=8123", "HOST=127.0.0.1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.replace("\\\n", " ")  # one line per command, continuations joined
    command = "demo-data" if target == "db" else "forms_backend serve"
    uses = [line for line in recipe.splitlines() if command in line]
    assert len(uses) == 1, recipe
    assert "BRUG_PUBLIC_URL=${BRUG_PUBLIC_URL:-http://127.0.0.1:8123}" in uses[0]
    # and the shell gives an explicit BRUG_PUBLIC_URL precedence over that default
    shell = subprocess.run(
        ["sh", "-c", 'echo "${BRUG_PUBLIC_URL:-http://127.0.0.1:8123}"'],
        env={"BRUG_PUBLIC_URL": "https://brug.example.nl"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert shell.stdout.strip() == "https://brug.example.nl"


@pytest.mark.parametrize(
    ("public_url", "port", "warns"),
    [
        ("http://127.0.0.1:8000", 8000, False),
        ("http://127.0.0.1:8000", 8780, True),
        ("http://localhost:8000/", 8001, True),
        ("http://localhost", 80, False),
        ("https://localhost", 443, False),
        ("https://brug.example.nl", 8000, False),  # behind nginx: never the backend's port
    ],
)
def test_serve_warns_when_mail_links_name_another_local_port(
    public_url: str, port: int, warns: bool
) -> None:
    warning = link_warning(public_url, "127.0.0.1", port)
    assert (warning is not None) == warns
    if warning:
        assert public_url in warning
        assert f"BRUG_PUBLIC_URL=http://127.0.0.1:{port}" in warning
