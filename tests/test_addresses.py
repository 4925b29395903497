"""Only public addresses, for a server's clients' URLs (ikmeta.sources.addresses): every address
a name resolves to is checked, the one checked is the one connected to, and a redirect to a
private address is refused as the first request would be."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler

import pytest

from ikmeta.sources import addresses
from ikmeta.sources.addresses import AddressRefused, address_problem, public_address
from ikmeta.sources.base import FetchOptions
from ikmeta.sources.urls import fetch_url

from .test_remote import QuietServer


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("127.0.0.1", "a loopback address"),
        ("127.8.9.10", "a loopback address"),
        ("::1", "a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("169.254.169.254", "a link-local address (where cloud metadata services answer)"),
        ("fe80::1%eth0", "a link-local address (where cloud metadata services answer)"),
        ("10.1.2.3", "a private address"),
        ("192.168.0.1", "a private address"),
        ("172.16.0.1", "a private address"),
        ("fc00::1", "a private address"),
        ("0.0.0.0", "the unspecified address (this machine)"),
        ("100.64.0.1", "not a public address"),
        ("224.0.0.1", "not a public address"),
        ("64:ff9b::7f00:1", "a loopback address"),  # NAT64 of 127.0.0.1
        ("2002:a9fe:a9fe::1", "a link-local address (where cloud metadata services answer)"),  # 6to4
        ("fec0::1", "a private address"),  # site-local
        ("64:ff9b::808:808", None),
        ("8.8.8.8", None),
        ("2001:4860:4860::8888", None),
    ],
)
def test_address_problem(address, problem):
    assert address_problem(address) == problem


def test_every_address_of_a_name_is_checked(monkeypatch):
    answers = [("8.8.8.8", 80), ("10.0.0.7", 80)]
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, **kw: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", a) for a in answers],
    )
    with pytest.raises(AddressRefused, match=r"refused: mixed.example \(10.0.0.7\) is a private address"):
        public_address("mixed.example", 80)
    answers[:] = [("8.8.8.8", 80)]
    assert public_address("mixed.example", 80) == "8.8.8.8"


class Redirecting(BaseHTTPRequestHandler):
    """/away redirects to 127.0.0.2 (loopback too, but another address); /a.jpg answers."""

    def do_GET(self) -> None:
        if self.path == "/away":
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.2:{self.server.server_address[1]}/a.jpg")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send_response(200)
            self.send_header("Content-Length", "3")
            self.end_headers()
            self.wfile.write(b"abc")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def server():
    httpd = QuietServer(("0.0.0.0", 0), Redirecting)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()


def test_a_private_url_is_refused_before_any_connection(server):
    with pytest.raises(
        AddressRefused, match=r"^http://127.0.0.1:\d+/a.jpg: refused: 127.0.0.1 is a loopback"
    ):
        fetch_url(f"http://127.0.0.1:{server}/a.jpg", FetchOptions(public_only=True))
    assert fetch_url(f"http://127.0.0.1:{server}/a.jpg", FetchOptions()).data == b"abc"  # not asked: allowed


def test_a_redirect_to_a_private_address_is_refused(server, monkeypatch):
    real = addresses.address_problem
    monkeypatch.setattr(addresses, "address_problem", lambda a: None if a == "127.0.0.1" else real(a))
    url = f"http://127.0.0.1:{server}/away"
    with pytest.raises(
        AddressRefused, match=r"127.0.0.2 is a loopback address \(redirected to http://127.0.0.2"
    ):
        fetch_url(url, FetchOptions(public_only=True))
    assert fetch_url(f"http://127.0.0.1:{server}/a.jpg", FetchOptions(public_only=True)).data == b"abc"


def test_through_a_proxy_the_host_is_checked_before(monkeypatch, server):
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{server}")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    with pytest.raises(AddressRefused, match=r"169\.254\.169\.254 is a link-local address"):
        fetch_url("http://169.254.169.254/latest/meta-data/", FetchOptions(public_only=True))
