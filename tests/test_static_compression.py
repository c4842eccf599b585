"""gzip in the embedded server: the build's prebuilt .gz copies (site/hooks/brug_compress.py) are
sent to browsers that accept gzip, with the original's type, their own ETag, 304s and no gzip for
Range requests; the backend's public HTML pages are compressed on the fly; cache headers."""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

ROOT = Path(__file__).resolve().parents[1]
GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def _load_hook():
    spec = importlib.util.spec_from_file_location(
        "brug_compress", ROOT / "site" / "hooks" / "brug_compress.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


brug_compress = _load_hook()

PAGE = (
    "<!doctype html><html lang=nl><title>Proef</title><p>"
    + "Een brug van binnen naar buiten. " * 200
)
CSS = ".md-typeset h1 { color: #123456; }\n" * 200


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    """A small build: a page, a hashed theme stylesheet, Brug's own CSS, a tiny file, a 404."""
    site = tmp_path / "site"
    (site / "praktijken" / "proef").mkdir(parents=True)
    (site / "assets" / "stylesheets").mkdir(parents=True)
    (site / "assets" / "brug").mkdir(parents=True)
    (site / "index.html").write_text(PAGE, encoding="utf-8")
    (site / "praktijken" / "proef" / "index.html").write_text(
        PAGE + "<p>praktijk", encoding="utf-8"
    )
    (site / "assets" / "stylesheets" / "main.57a0d79d.min.css").write_text(CSS, encoding="utf-8")
    (site / "assets" / "brug" / "brug.css").write_text(CSS, encoding="utf-8")
    (site / "assets" / "brug" / "klein.svg").write_text(
        "<svg xmlns='http://www.w3.org/2000/svg'/>", encoding="utf-8"
    )
    (site / "404.html").write_text(PAGE.replace("Proef", "Niet gevonden"), encoding="utf-8")
    brug_compress.compress_tree(site)
    return site


def test_hook_writes_deterministic_gzip_copies_of_text_files_above_1_kb(site_dir: Path) -> None:
    packed = site_dir / "assets" / "brug" / "brug.css.gz"
    first = packed.read_bytes()
    assert gzip.decompress(first) == (site_dir / "assets" / "brug" / "brug.css").read_bytes()
    assert first[4:8] == b"\0\0\0\0"  # mtime 0: the same build gives the same bytes
    assert not (site_dir / "assets" / "brug" / "klein.svg.gz").exists()
    brug_compress.compress_tree(site_dir)
    assert packed.read_bytes() == first


def test_unchanged_files_reuse_the_previous_releases_copy(site_dir: Path, tmp_path: Path) -> None:
    """A hard link to the live release's .gz for the same bytes; changed files packed anew."""
    import shutil

    new = tmp_path / "nieuw"
    shutil.copytree(site_dir, new, ignore=shutil.ignore_patterns("*.gz"))
    changed = new / "praktijken" / "proef" / "index.html"
    changed.write_text(PAGE + "<p>een andere praktijk", encoding="utf-8")
    (new / "assets" / "brug" / "klein.svg").write_text("<svg/>" * 300, encoding="utf-8")
    packer = brug_compress.Packer(new, previous=site_dir)
    packer.add_tree()
    assert packer.finish() == 6
    same = new / "assets" / "brug" / "brug.css.gz"
    assert same.stat().st_ino == (site_dir / "assets" / "brug" / "brug.css.gz").stat().st_ino
    assert packer.reused == 4  # index, 404, two stylesheets
    for path in (changed, new / "assets" / "brug" / "klein.svg"):
        packed = path.with_name(path.name + ".gz")
        assert gzip.decompress(packed.read_bytes()) == path.read_bytes()
        assert packed.stat().st_nlink == 1
    assert "een andere" not in gzip.decompress(
        (site_dir / "praktijken" / "proef" / "index.html.gz").read_bytes()
    ).decode()


def test_packing_a_large_site_holds_only_a_few_files_in_memory(tmp_path: Path) -> None:
    """Each file is read in the pool that compresses it: a 5,000-page build used to hold every
    page and the search index in memory at once (about 90 MB more peak memory than without the
    hook, bench/results/build.md); now the peak stays near the pool's few files."""
    import random
    import tracemalloc

    words = [f"woord{n}" for n in range(2000)]
    rng = random.Random(7)
    files = 60
    for n in range(files):
        page = tmp_path / "site" / f"p{n}" / "index.html"
        page.parent.mkdir(parents=True)
        page.write_text(" ".join(rng.choice(words) for _ in range(20_000)), encoding="utf-8")
    total = sum(p.stat().st_size for p in (tmp_path / "site").rglob("*.html"))
    tracemalloc.start()
    try:
        assert brug_compress.compress_tree(tmp_path / "site") == files
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    largest = max(p.stat().st_size for p in (tmp_path / "site").rglob("*.html"))
    assert peak < 12 * largest, (peak, total)  # the pool's threads, not the whole site
    assert peak < total / 3


def test_a_previous_release_that_is_the_build_itself_is_ignored(site_dir: Path) -> None:
    packer = brug_compress.Packer(site_dir, previous=site_dir)
    assert packer.previous is None
    assert packer.finish() == 0


def get_both(client: FlaskClient, path: str) -> tuple[TestResponse, TestResponse]:
    """``path`` without and with gzip accepted; checks they carry the same content."""
    identity = client.get(path)
    packed = client.get(path, headers=GZIP)
    assert identity.status_code == packed.status_code == 200
    assert "Content-Encoding" not in identity.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.get_data()) == identity.get_data()
    assert packed.headers["Content-Type"] == identity.headers["Content-Type"]
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert "Accept-Encoding" in identity.headers["Vary"]
    return identity, packed


def test_gzip_copy_is_sent_when_accepted(client: FlaskClient, site_dir: Path) -> None:
    identity, packed = get_both(client, "/praktijken/proef/")
    assert identity.get_data() == (site_dir / "praktijken" / "proef" / "index.html").read_bytes()
    assert (
        int(packed.headers["Content-Length"])
        == len(packed.get_data())
        < len(identity.get_data()) / 5
    )
    assert packed.headers["Content-Type"] == "text/html; charset=utf-8"
    assert identity.headers["Cache-Control"] == packed.headers["Cache-Control"] == "no-cache"
    assert packed.headers["ETag"] != identity.headers["ETag"]


@pytest.mark.parametrize("accept", ["", "identity", "gzip;q=0", "br"])
def test_identity_without_gzip_in_accept_encoding(
    client: FlaskClient, site_dir: Path, accept: str
) -> None:
    response = client.get(
        "/assets/brug/brug.css", headers={"Accept-Encoding": accept} if accept else {}
    )
    assert "Content-Encoding" not in response.headers
    assert response.get_data() == (site_dir / "assets" / "brug" / "brug.css").read_bytes()
    assert response.headers["Content-Type"].startswith("text/css")


def test_conditional_requests_get_304_for_each_encoding(client: FlaskClient) -> None:
    identity = client.get("/assets/brug/brug.css")
    packed = client.get("/assets/brug/brug.css", headers=GZIP)
    again = client.get("/assets/brug/brug.css", headers={"If-None-Match": identity.headers["ETag"]})
    assert again.status_code == 304
    again = client.get(
        "/assets/brug/brug.css", headers={**GZIP, "If-None-Match": packed.headers["ETag"]}
    )
    assert again.status_code == 304
    assert again.headers["ETag"] == packed.headers["ETag"]
    assert "Accept-Encoding" in again.headers["Vary"]
    # an identity ETag does not validate the gzip copy, nor the other way round
    crossed = client.get(
        "/assets/brug/brug.css", headers={**GZIP, "If-None-Match": identity.headers["ETag"]}
    )
    assert crossed.status_code == 200 and crossed.headers["Content-Encoding"] == "gzip"
    crossed = client.get("/assets/brug/brug.css", headers={"If-None-Match": packed.headers["ETag"]})
    assert crossed.status_code == 200 and "Content-Encoding" not in crossed.headers


def test_range_requests_always_get_the_original_bytes(client: FlaskClient, site_dir: Path) -> None:
    response = client.get("/assets/brug/brug.css", headers={**GZIP, "Range": "bytes=10-19"})
    assert response.status_code == 206
    assert "Content-Encoding" not in response.headers
    assert response.get_data() == (site_dir / "assets" / "brug" / "brug.css").read_bytes()[10:20]


def test_small_files_have_no_copy_and_are_sent_as_is(client: FlaskClient) -> None:
    response = client.get("/assets/brug/klein.svg", headers=GZIP)
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert response.headers["Content-Type"].startswith("image/svg+xml")


def test_site_404_page_is_compressed_too(client: FlaskClient, site_dir: Path) -> None:
    response = client.get("/bestaat-niet/", headers=GZIP)
    assert response.status_code == 404
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.get_data()) == (site_dir / "404.html").read_bytes()


def test_cache_headers_hashed_assets_are_immutable(client: FlaskClient) -> None:
    hashed = client.get("/assets/stylesheets/main.57a0d79d.min.css", headers=GZIP)
    assert hashed.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    own = client.get("/assets/brug/brug.css", headers=GZIP)
    assert own.cache_control.public and own.cache_control.max_age == 3600
    assert "immutable" not in own.headers["Cache-Control"]
    assert client.get("/", headers=GZIP).headers["Cache-Control"] == "no-cache"


def test_gz_copies_are_not_served_for_the_shell(client: FlaskClient, site_dir: Path) -> None:
    (site_dir / "_shell").mkdir()
    (site_dir / "_shell" / "index.html").write_text(PAGE, encoding="utf-8")
    brug_compress.compress_tree(site_dir)
    assert client.get("/_shell/", headers=GZIP).status_code == 404
    assert client.get("/_shell/index.html.gz", headers=GZIP).status_code == 404


# ---------------------------------------------------------------------------------------------
# the real build and the backend's own pages


@pytest.fixture
def real_site(app: Flask, built_site: Path) -> Path:
    app.config["SITE_DIR"] = str(built_site)  # resolved per request
    return built_site


def test_real_build_has_a_gzip_copy_of_every_large_text_file(real_site: Path) -> None:
    missing = [
        str(path.relative_to(real_site))
        for path in real_site.rglob("*")
        if path.suffix in brug_compress.SUFFIXES
        and path.stat().st_size > brug_compress.MIN_SIZE
        and not path.with_name(path.name + ".gz").is_file()
    ]
    assert not missing
    # Every copy holds exactly the bytes of its file.
    differ = [
        str(packed.relative_to(real_site))
        for packed in real_site.rglob("*.gz")
        if gzip.decompress(packed.read_bytes()) != packed.with_suffix("").read_bytes()
    ]
    assert not differ
    assert (real_site / "search" / "search_index.json.gz").is_file()
    assert (real_site / "praktijken" / "index.html.gz").is_file()


def test_backend_public_page_is_compressed_on_the_fly(client: FlaskClient, real_site: Path) -> None:
    identity, _packed = get_both(client, "/agenda/")
    assert b"</html>" in identity.get_data()


@pytest.mark.parametrize("path", ["/beheer/inloggen", "/mijn/onbekende-link"])
def test_back_office_and_personal_pages_are_never_compressed(
    client: FlaskClient, real_site: Path, path: str
) -> None:
    """They hold a CSRF token or a personal link next to text a visitor chooses (BREACH)."""
    response = client.get(path, headers=GZIP)
    assert len(response.get_data()) > 1024
    assert "Content-Encoding" not in response.headers
