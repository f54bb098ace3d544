"""Clients of every kind: a browser page on an allowed origin (CORS), tokens from the environment or a file."""

import argparse
import shutil

from fastapi.testclient import TestClient

from qmdb.commands import serve
from qmdb.server import Settings, create_app


def test_cors_answers_allowed_origins_only(project, tmp_path):
    db = shutil.copy(project["db"], tmp_path / "copy.duckdb")  # a file of its own: the session's app locks its config
    app = create_app(Settings(database=db, cors_origins=("http://localhost:3000",)))
    with TestClient(app) as client:
        ok = client.get("/tables", headers={"Origin": "http://localhost:3000"})
        assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "http://localhost:3000"
        other = client.get("/tables", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        preflight = client.options("/query", headers={"Origin": "http://localhost:3000",
                                                      "Access-Control-Request-Method": "POST",
                                                      "Access-Control-Request-Headers": "content-type"})
        assert preflight.status_code == 200 and "POST" in preflight.headers["access-control-allow-methods"]


def test_without_cors_origins_no_page_elsewhere_may_read(client):
    assert "access-control-allow-origin" not in client.get("/tables", headers={"Origin": "http://a.example"}).headers


def test_tokens_come_from_the_environment_or_a_file(monkeypatch, tmp_path):
    monkeypatch.setenv("QMDB_WRITE_TOKEN", "from-env")
    parser = argparse.ArgumentParser()
    serve.configure(parser)
    args = parser.parse_args(["db.duckdb", "--cors-origin", "http://a", "--cors-origin", "http://b"])
    assert args.token == "from-env" and args.cors_origin == ["http://a", "http://b"]
    (tmp_path / "token").write_text("from-file\n")
    assert parser.parse_args(["db.duckdb", "--token-file", str(tmp_path / "token")]).token_file.endswith("token")


def test_a_loopback_server_refuses_other_host_names(project, tmp_path):
    db = shutil.copy(project["db"], tmp_path / "copy.duckdb")
    app = create_app(Settings(database=db, allowed_hosts=serve.allowed_hosts("127.0.0.1", [])))
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        assert client.get("/tables").status_code == 200
        assert client.get("/tables", headers={"Host": "localhost:8000"}).status_code == 200
        assert client.get("/tables", headers={"Host": "attacker.example"}).status_code == 400


def test_docs_work_offline(client):
    """/docs and /redoc load their scripts and styles from this server, none from a CDN."""
    import re

    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        urls = re.findall(r"""(?:src|href)=["']([^"']+)["']|url: ?['"]([^'"]+)['"]""", html)
        urls = [u for pair in urls for u in pair if u]
        assert urls and all(u.startswith("/") for u in urls), (page, urls)
        assert "cdn" not in html.lower()
        for url in urls:
            assert client.get(url).status_code == 200, url
    assert b"SwaggerUIBundle" in client.get("/docs/assets/swagger-ui-bundle.js").content
