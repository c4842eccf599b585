"""Content writers and releases: never overwrite, never escape, switch atomically, roll back."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest

from forms_backend import submissions
from forms_backend.content import validate_front_matter
from forms_backend.publishing import (
    GitWriter,
    Publisher,
    WriteError,
    read_front_matter,
    render_page,
)


def test_writer_never_overwrites_and_numbers_slugs(writer, content_dir):
    original = (content_dir / "praktijken" / "heerde-samen-starten.md").read_text()
    path = writer.write_new("praktijken", "heerde-samen-starten", "nieuw", message="x")
    assert path == "praktijken/heerde-samen-starten-2.md"
    assert (content_dir / "praktijken" / "heerde-samen-starten.md").read_text() == original
    assert (
        writer.write_new("praktijken", "heerde-samen-starten", "nog een", message="x")
        == "praktijken/heerde-samen-starten-3.md"
    )


@pytest.mark.parametrize(
    "folder,slug",
    [("..", "x"), ("praktijken/../..", "x"), ("praktijken", "../x"), ("/etc", "passwd"),
     ("praktijken", "A B")],
)
def test_writer_refuses_paths_outside_content(writer, folder, slug, tmp_path):
    with pytest.raises((WriteError, OSError)):
        writer.write_new(folder, slug, "x", message="x")
    assert not (tmp_path / "x.md").exists()


def test_writer_refuses_a_symlinked_folder_that_leaves_content(writer, content_dir, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, content_dir / "uitweg")
    with pytest.raises(WriteError):
        writer.write_new("uitweg", "x", "x", message="x")
    assert list(outside.iterdir()) == []


def test_concurrent_writes_get_distinct_files(writer, content_dir):
    paths: list[str] = []
    threads = [
        threading.Thread(
            target=lambda: paths.append(writer.write_new("praktijken", "zelfde", "x", message="x"))
        )
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(paths)) == 8


def test_rendered_page_round_trips_through_the_schema():
    data = submissions.SubmissionData(kind="praktijk", title="Titel: met 'quotes' en #hekje",
                                      summary="Samenvatting: ja", body="x", leefgebieden=["wonen"],
                                      regio="utrecht", organisatie="Org")
    import datetime as dt

    meta = submissions.page_meta(data, datum=dt.date(2026, 3, 2))
    text = render_page(meta, "# Titel\n\nTekst")
    assert validate_front_matter(read_front_matter(text), "x") == meta


def test_schema_breaking_submission_is_refused_before_anything_is_written(
    session, writer, content_dir
):
    data = submissions.SubmissionData(kind="werkbezoek", title="T", summary="S", body="B",
                                      leefgebieden=["wonen"], regio="utrecht", organisatie="Org",
                                      plaats=None)
    before = sorted(p.name for p in (content_dir / "werkbezoeken").iterdir())
    with pytest.raises(submissions.SubmissionError) as info:
        submissions.submit(
            session,
            data,
            submissions.Contact(name="A B", email="a@example.nl"),
            now=__import__("tests.conftest", fromlist=["START"]).START,
            public_url="http://x",
        )
    assert any("werkbezoek" in p for p in info.value.problems)
    assert sorted(p.name for p in (content_dir / "werkbezoeken").iterdir()) == before


def _publisher(tmp_path: Path, content: Path, keep: int = 3) -> Publisher:
    return Publisher(
        content_dir=content,
        site_dir=tmp_path / "build" / "site",
        releases_dir=tmp_path / "build" / "releases",
        keep=keep,
    )


def test_switch_is_a_symlink_swap_keeps_previous_and_prunes(tmp_path, content_dir):
    publisher = _publisher(tmp_path, content_dir, keep=2)
    releases = []
    for name in ("r1", "r2", "r3"):
        release = publisher.releases_dir / name
        release.mkdir(parents=True)
        (release / "index.html").write_text(name)
        publisher.switch(release)
        publisher.prune()
        releases.append(release)
    assert (
        publisher.site_dir.is_symlink() and (publisher.site_dir / "index.html").read_text() == "r3"
    )
    assert [r.name for r in publisher.releases()] == ["r2", "r3"]
    assert publisher.rollback().name == "r2"
    assert (publisher.site_dir / "index.html").read_text() == "r2"


def test_an_old_real_build_folder_is_kept_as_a_release(tmp_path, content_dir):
    publisher = _publisher(tmp_path, content_dir)
    publisher.site_dir.mkdir(parents=True)
    (publisher.site_dir / "index.html").write_text("oud")
    release = publisher.releases_dir / "r1"
    release.mkdir(parents=True)
    (release / "index.html").write_text("nieuw")
    publisher.switch(release)
    assert (publisher.site_dir / "index.html").read_text() == "nieuw"
    assert publisher.rollback().name.endswith("-eerder")
    assert (publisher.site_dir / "index.html").read_text() == "oud"


def test_failed_build_leaves_the_live_release_and_no_debris(tmp_path, content_dir):
    publisher = _publisher(tmp_path, content_dir)
    live = publisher.releases_dir / "r1"
    live.mkdir(parents=True)
    (live / "index.html").write_text("live")
    publisher.switch(live)
    (content_dir / "praktijken" / "kapot.md").write_text(
        "---\ntype: praktijk\ntitle: x\nsummary: y\n---\n"
    )
    outcome = publisher.build()
    assert not outcome.ok
    assert "kapot.md" in outcome.message and "datum" in outcome.message
    assert (publisher.site_dir / "index.html").read_text() == "live"
    assert [p.name for p in publisher.releases_dir.iterdir()] == ["r1"]


@pytest.mark.build
def test_a_new_release_packs_only_what_changed(tmp_path, content_dir):
    """The real build: unchanged pages share the live release's .gz, a changed one is new."""
    import gzip

    publisher = _publisher(tmp_path, content_dir)
    assert publisher.build().ok
    first = publisher.current()
    page = content_dir / "praktijken" / "heerde-samen-starten.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n\nEen nieuwe alinea.\n", encoding="utf-8")
    assert publisher.build().ok
    second = publisher.current()
    assert first is not None and second is not None and first != second
    unchanged = Path("leefgebieden", "zorg", "index.html.gz")
    assert (second / unchanged).stat().st_ino == (first / unchanged).stat().st_ino
    changed = second / "praktijken" / "heerde-samen-starten" / "index.html"
    packed = changed.with_name("index.html.gz")
    assert packed.stat().st_ino != (first / packed.relative_to(second)).stat().st_ino
    assert b"Een nieuwe alinea." in gzip.decompress(packed.read_bytes())
    for copy in second.rglob("*.gz"):
        assert gzip.decompress(copy.read_bytes()) == copy.with_suffix("").read_bytes(), copy


def test_build_requests_coalesce_while_one_waits(session, clock):
    first = submissions.request_build(session, now=clock())
    second = submissions.request_build(session, now=clock())
    assert first.id == second.id
    assert submissions.claim_builds(session, now=clock()) == [first.id]
    third = submissions.request_build(session, now=clock())
    assert third.id != first.id, "a request during a build waits for the next one"


def test_git_writer_commits_with_a_neutral_author_and_no_personal_data(tmp_path):
    repo = tmp_path / "repo"
    (repo / "content").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    writer = GitWriter(repo / "content")
    path = writer.write_new(
        "praktijken",
        "een-pagina",
        "---\ntype: pagina\n---\n",
        message="Praktijkvoorbeeld publiceren: een-pagina",
    )
    log = subprocess.run(
        ["git", "log", "--format=%an <%ae>|%cn <%ce>|%s", "--name-only"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert (
        "Brug publicatie <publicatie@brug.example.nl>|Brug publicatie <publicatie@brug.example.nl>"
        "|Praktijkvoorbeeld publiceren: een-pagina"
    ) in log
    assert "content/praktijken/een-pagina.md" in log
    writer.remove(path, message="weg")
    assert not (repo / "content" / path).exists()
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout
    assert status == ""


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Index", "index-inzending"),
        ("README", "readme-inzending"),
        ("Index van zorg", "index-van-zorg"),
    ],
)
def test_a_title_never_becomes_a_sections_own_page(title, slug):
    """MkDocs turns index.md (and README.md) into the overview page of its folder."""
    from forms_backend.submissions import slugify

    assert slugify(title) == slug


def test_a_failed_build_is_explained_in_dutch_once_per_line(tmp_path):
    """MkDocs speaks English and the log had every line twice (stdout and stderr); the
    moderator reads one Dutch line per problem, with paths under content/."""
    from forms_backend.publishing import build_message

    content = tmp_path / "werk" / "content"
    relative = "../.." + str(content)  # how the hooks name a file, seen from the config
    log = "\n".join(
        [
            f"ERROR    -  {relative}/nieuws/kapot.md: ongeldige front matter",
            "  - type: 'onbekend' is geen paginatype",
            "WARNING  -  Doc file 'praktijken/link.md' contains a link 'bestaat-niet.md', but "
            "the target 'praktijken/bestaat-niet.md' is not found among documentation files.",
            "WARNING  -  Doc file 'praktijken/a.md' contains an absolute link '/x/', it was "
            "left as is.",
            "ERROR    -  Aborted with 2 warnings in strict mode!",
            "ERROR    -  Aborted with a BuildError!",
        ]
    )
    message = build_message(log + "\n" + log, content)
    lines = message.splitlines()
    assert len(lines) == len(set(lines)) == 6, message
    assert lines[0] == "Fout: content/nieuws/kapot.md: ongeldige front matter"
    assert (
        "Waarschuwing: op de pagina content/praktijken/link.md staat een link naar "
        "'bestaat-niet.md', maar die pagina bestaat niet." in lines
    )
    assert any("content/praktijken/a.md" in line and "'/x/'" in line for line in lines)
    assert "Aborted" not in message and "Doc file" not in message
    assert any("2 waarschuwingen" in line for line in lines)
