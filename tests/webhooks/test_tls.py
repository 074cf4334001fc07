"""A try connects to the address checked while TLS names and verifies the URL's host: the
certificate must be the host's, not merely any valid one at that address."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import requests

from tests.support.services import service_missing
from workers.webhooks import _PinnedAdapter


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


def test_the_pinned_address_is_verified_against_the_hosts_name(tmp_path: Path) -> None:
    if shutil.which("openssl") is None:  # a failure under CI, a skip on a laptop without it
        service_missing("openssl, which makes the test's certificate, is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", key, "-out", cert, "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True)
    server = HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_port
    try:
        with requests.Session() as http:
            http.mount("https://", _PinnedAdapter("localhost"))
            answer = http.post(f"https://127.0.0.1:{port}/hook", data=b"{}", verify=str(cert),
                               headers={"Host": f"localhost:{port}"}, timeout=5)
            assert answer.status_code == 204
        with requests.Session() as http:
            http.mount("https://", _PinnedAdapter("hooks.example.org"))
            with pytest.raises(requests.exceptions.SSLError):
                http.post(f"https://127.0.0.1:{port}/hook", data=b"{}", verify=str(cert),
                          headers={"Host": f"hooks.example.org:{port}"}, timeout=5)
    finally:
        server.shutdown()
        server.server_close()
