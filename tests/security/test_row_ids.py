"""A number in a URL that no database row can have is a 404, never an overflow (500)."""

from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

SENTINEL = 7_654_321


def _int_routes(app):
    """(method, path template) for every rule with an ``<int:…>`` part; SENTINEL marks it."""
    routes = []
    for rule in app.url_map.iter_rules():
        ints = [n for n, c in rule._converters.items() if isinstance(c, IntegerConverter)]
        if not ints:
            continue
        values = {name: SENTINEL if name in ints else "x" for name in rule.arguments}
        _domain, path = rule.build(values)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((method, path))
    return routes


def test_the_url_map_has_row_id_routes(app):
    paths = {path for _method, path in _int_routes(app)}
    assert f"/agenda/{SENTINEL}/" in paths
    assert f"/beheer/bijeenkomsten/{SENTINEL}" in paths
    assert f"/beheer/inzendingen/{SENTINEL}" in paths
    assert f"/beheer/vrijwilligers/{SENTINEL}" in paths


@pytest.mark.parametrize("number", ["2147483648", "9223372036854775808", "9" * 20])
def test_a_row_id_beyond_the_database_is_not_found(app, client, auth, number):
    auth.create(role="admin")
    auth.login()
    for method, path in _int_routes(app):
        response = client.open(path.replace(str(SENTINEL), number), method=method)
        assert response.status_code == 404, (method, path, response.status_code)
        assert "niet" in response.get_data(as_text=True).lower()  # the Dutch not-found page
