"""No personal data of a submitter ever lands in content/, git or the built site."""

from __future__ import annotations

import subprocess

from sqlmodel import select

from forms_backend import db, submissions
from forms_backend.publishing import GitWriter

from .conftest import CONTACT_EMAIL, CONTACT_NAME, run_builds


def _grep(path, needle) -> list[str]:
    result = subprocess.run(
        ["grep", "-rlaiF", needle, str(path)], capture_output=True, text=True, check=False
    )
    return result.stdout.splitlines()


def test_contact_details_are_nowhere_but_the_database(
    app, client, auth, submit, published_site, content_dir, tmp_path
):
    subprocess.run(["git", "init", "-q", str(content_dir)], check=True)
    app.config["CONTENT_WRITER"] = GitWriter(content_dir)
    assert submit().status_code == 303
    auth.create("admin@brug.example.nl", role="admin")
    auth.login("admin@brug.example.nl")
    with app.app_context():
        sub_id = db.session().exec(select(submissions.Submission.id)).one()
    client.post(f"/beheer/inzendingen/{sub_id}/vraag", data={"body": "Mag ik bellen?"})
    client.post(f"/beheer/inzendingen/{sub_id}/goedkeuren")
    assert run_builds(app) is True
    assert client.get("/praktijken/buurtteam-voorbeeldstad-wonen-na-detentie/").status_code == 200
    for needle in (CONTACT_EMAIL, CONTACT_NAME, CONTACT_EMAIL.split("@")[0], "Oudeboer"):
        # the work tree and .git (objects are compressed: see log below)
        assert _grep(content_dir, needle) == []
        assert _grep(published_site.parent, needle) == []  # every release and the live pointer
    log = subprocess.run(
        ["git", "log", "-p", "--all", "--format=%an %ae %cn %ce %B"],
        cwd=content_dir,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "buurtteam-voorbeeldstad" in log
    assert CONTACT_EMAIL not in log and CONTACT_NAME not in log and "Oudeboer" not in log
