"""What every HTML page has: labelled forms with a CSRF token, the header of who is signed in,
the security headers, no inline script and no foreign host."""

from __future__ import annotations


def test_forms_have_labels_and_a_csrf_token(client) -> None:
    for url in ("/sign-in", "/sign-up"):
        page = client.get(url).get_data(as_text=True)
        assert 'name="csrf_token"' in page
        for field in ("email", "password"):
            assert f'<label for="{field}">' in page
        assert 'href="#contenu"' in page


def test_the_header_follows_the_signed_in_user(client, sign_in, create_user) -> None:
    assert "Se connecter" in client.get("/").get_data(as_text=True)
    sign_in(create_user("lea@example.org"))
    page = client.get("/").get_data(as_text=True)
    assert "Lea" in page
    assert "Se déconnecter" in page


def test_every_answer_carries_the_security_headers(client) -> None:
    for url in ("/initiatives", "/api/v1/themes", "/nowhere", "/static/maillage.css"):
        response = client.get(url)
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy
        assert "script-src 'self'" in policy
        assert "'unsafe-inline'" not in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        response.close()


def test_no_page_has_an_inline_script_or_a_foreign_host(client, sign_in, create_user) -> None:
    import re

    sign_in(create_user())
    for url in ("/initiatives", "/towns/22113", "/themes", "/notifications", "/initiatives/new"):
        page = client.get(url).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), url
        assert not re.search(r"(src|href)=\"(https?:)?//", page), url


def test_what_a_page_loads_is_served_with_the_source_maps_it_names(client, sign_in,
                                                                  create_user) -> None:
    """A browser with its developer tools open asks for each source map a script names."""
    import re

    sign_in(create_user())  # the live scripts are on the pages of who is signed in
    page = client.get("/").get_data(as_text=True)
    assets = re.findall(r"(?:src|href)=\"(/static/[^\"]+)\"", page)
    assert any(asset.endswith("socket.io.min.js") for asset in assets)
    for asset in assets:
        with client.get(asset) as response:
            assert response.status_code == 200, asset
            body = response.get_data(as_text=True)
        for source_map in re.findall(r"[#@] sourceMappingURL=(\S+)", body):
            with client.get(asset.rsplit("/", 1)[0] + "/" + source_map) as answer:
                assert answer.status_code == 200, source_map
