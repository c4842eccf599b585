"""The production set-up on loopback, for tests and benchmarks: gunicorn + nginx + a tiny client.

``Gunicorn`` runs ``deploy/gunicorn.conf.py`` (the real file) on a free port; ``Nginx`` runs
``deploy/nginx/brug.conf`` (the real file, with ports, paths and certificate replaced) on free
ports. ``Browser`` is a small HTTP client with a cookie jar, built on ``http.client`` so that it
can talk TLS to a self-signed nginx and plain HTTP to gunicorn.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import IO
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
OPENSSL = shutil.which("openssl")
STARTUP_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_port() -> int:
    """A loopback port nothing listens on (bound and released; nobody else takes it that fast)."""
    return free_port()


def wait_for_port(
    port: int, proc: subprocess.Popen[bytes] | None = None, log: Path | None = None
) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}:\n{_tail(log)}")
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", port), timeout=0.5),
        ):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port} after {STARTUP_SECONDS}s:\n{_tail(log)}")


def _tail(log: Path | None) -> str:
    if log is None or not log.exists():
        return ""
    return log.read_text(encoding="utf-8", errors="replace")[-3000:]


# ---------------------------------------------------------------------------------------------
# HTTP


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def header_all(self, name: str) -> list[str]:
        return self.headers.get_all(name) or []

    @property
    def location(self) -> str | None:
        return self.headers.get("Location")


def hidden_inputs(html: str) -> dict[str, str]:
    """The hidden fields of a page's forms (csrf_token, started, ...)."""
    found = {}
    for tag in re.findall(r"<input[^>]*>", html):
        if 'type="hidden"' not in tag:
            continue
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            found[name.group(1)] = value.group(1) if value else ""
    return found


@dataclass
class Browser:
    """One client: keeps cookies like a browser (host-only, path /), follows nothing by itself."""

    base: str
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    timeout: float = 60.0

    def _connection(self) -> http.client.HTTPConnection:
        parts = urlsplit(self.base)
        if parts.scheme == "https":
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return http.client.HTTPSConnection(
                parts.hostname or "", parts.port, timeout=self.timeout, context=context
            )
        return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=self.timeout)

    def request(
        self,
        method: str,
        path: str,
        *,
        data: Mapping[str, object] | None = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        send = {"Host": "brug.example.nl", **self.headers, **(headers or {})}
        if data is not None:
            body = urlencode(data, doseq=True).encode("utf-8")
            send.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if self.cookies:
            send["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = self._connection()
        try:
            connection.request(method, path, body=body, headers=send)
            response = connection.getresponse()
            reply = Reply(response.status, response.headers, response.read())
        finally:
            connection.close()
        for raw in reply.header_all("Set-Cookie"):
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(raw)
            for name, morsel in cookie.items():
                expires = morsel["expires"]
                expired = (expires and "1970" in expires) or morsel["max-age"] == "0"
                if expired or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return reply

    def get(self, path: str, **kwargs: object) -> Reply:
        return self.request("GET", path, **kwargs)  # type: ignore[arg-type]

    def post(self, path: str, **kwargs: object) -> Reply:
        return self.request("POST", path, **kwargs)  # type: ignore[arg-type]

    def submit(
        self, path: str, fields: Mapping[str, object], *, form_path: str | None = None
    ) -> Reply:
        """GET the form page, take its hidden fields (CSRF, timing stamp), POST with ``fields``."""
        page = self.get(form_path or path)
        return self.post(path, data={**hidden_inputs(page.text), **fields})


# ---------------------------------------------------------------------------------------------
# gunicorn


def backend_env(database_url: str, site_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment a production gunicorn gets (see deploy/brug.env.example)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BRUG_", "GUNICORN_"))
    }
    env.update(
        BRUG_SECRET_KEY="production-test-secret-0123456789abcdef",
        BRUG_DATABASE_URL=database_url,
        BRUG_SITE_DIR=str(site_dir),
        BRUG_CONTENT_DIR=str(ROOT / "content"),
        BRUG_SERVE_SITE="false",
        BRUG_TRUSTED_PROXIES="1",
        BRUG_MAIL_TRANSPORT="console",
        BRUG_PUBLIC_URL="https://brug.example.nl",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


class Gunicorn:
    """gunicorn with deploy/gunicorn.conf.py on a free loopback port."""

    def __init__(
        self, env: Mapping[str, str], workdir: Path, *, workers: int = 2, port: int | None = None
    ) -> None:
        self.env, self.workdir, self.workers = dict(env), workdir, workers
        self.port = port or free_port()
        self.log = workdir / f"gunicorn-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_handle: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Gunicorn:
        self._log_handle = open(self.log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", str(DEPLOY / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
             "--chdir", str(ROOT)],
            cwd=ROOT, env=self.env, stdout=self._log_handle, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_port(self.port, self.proc, self.log)
        return self

    def worker_pids(self) -> list[int]:
        """The worker processes (children of the gunicorn master)."""
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def stop(self, *, graceful: bool = False) -> None:
        """SIGTERM waits for running requests; SIGINT (the default here) stops at once."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM if graceful else signal.SIGINT)
            try:
                self.proc.wait(timeout=STARTUP_SECONDS)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


# ---------------------------------------------------------------------------------------------
# nginx


def switch_release(build: Path, release: Path) -> None:
    """Point build/site at ``release`` atomically (a new link renamed over the old one)."""
    temp = build / "site.new"
    temp.unlink(missing_ok=True)
    temp.symlink_to(release, target_is_directory=True)
    temp.replace(build / "site")


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    if not cert.exists():
        if OPENSSL is None:
            raise RuntimeError("openssl is needed for the test certificate")
        subprocess.run(
            [OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-days", "2", "-subj", "/CN=brug.example.nl",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True,
        )
    return cert, key


def render_site_config(*, root: Path, upstream_port: int, http_port: int, https_port: int,
                       cert: Path, key: Path, cache: Path, access_log: Path) -> str:
    """deploy/nginx/brug.conf with only machine-specific values replaced (each must be there)."""
    text = (DEPLOY / "nginx" / "brug.conf").read_text(encoding="utf-8")
    replacements = {
        "server 127.0.0.1:8001": f"server 127.0.0.1:{upstream_port}",
        "/var/cache/nginx/brug": str(cache),
        "    listen 80;\n": f"    listen 127.0.0.1:{http_port};\n",
        "    listen [::]:80;\n": "",
        "    listen 443 ssl http2;\n": f"    listen 127.0.0.1:{https_port} ssl http2;\n",
        "    listen [::]:443 ssl http2;\n": "",
        "/etc/letsencrypt/live/brug.example.nl/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/brug.example.nl/privkey.pem": str(key),
        "/var/log/nginx/brug.access.log": str(access_log),
        "root /srv/brug/build/site;": f"root {root};",
        "/etc/nginx/snippets/": str(DEPLOY / "nginx") + "/",
    }
    for old, new in replacements.items():
        if old not in text:
            raise AssertionError(f"deploy/nginx/brug.conf no longer contains {old!r}")
        text = text.replace(old, new)
    return text


class Nginx:
    """Debian's nginx with the repository's config, on free loopback ports, prefix in a tmp dir."""

    def __init__(self, workdir: Path, *, site_root: Path, upstream_port: int) -> None:
        self.prefix = workdir / "nginx"
        self.prefix.mkdir(parents=True, exist_ok=True)
        self.site_root, self.upstream_port = site_root, upstream_port
        self.http_port, self.https_port = free_port(), free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.prefix / "error.log"

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def plain_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def write_config(self) -> Path:
        cert, key = self_signed_certificate(self.prefix)
        site = render_site_config(
            root=self.site_root, upstream_port=self.upstream_port, http_port=self.http_port,
            https_port=self.https_port, cert=cert, key=key, cache=self.prefix / "cache",
            access_log=self.prefix / "access.log",
        )
        (self.prefix / "brug.conf").write_text(site, encoding="utf-8")
        temp = {
            name: self.prefix / "tmp" / name
            for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")
        }
        for path in temp.values():
            path.mkdir(parents=True, exist_ok=True)
        user = "user root root;\n" if os.geteuid() == 0 else ""
        main = (
            f"{user}worker_processes 1;\ndaemon off;\npid {self.prefix}/nginx.pid;\n"
            f"error_log {self.log} warn;\nevents {{ worker_connections 512; }}\n"
            "http {\n"
            "    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n"
            "    sendfile on;\n"
            f"    client_body_temp_path {temp['body']};\n    proxy_temp_path {temp['proxy']};\n"
            f"    fastcgi_temp_path {temp['fastcgi']};\n    uwsgi_temp_path {temp['uwsgi']};\n"
            f"    scgi_temp_path {temp['scgi']};\n"
            f"    include {self.prefix / 'brug.conf'};\n"
            "}\n"
        )
        conf = self.prefix / "nginx.conf"
        conf.write_text(main, encoding="utf-8")
        return conf

    def start(self) -> Nginx:
        assert NGINX is not None
        conf = self.write_config()
        check = subprocess.run(
            [NGINX, "-t", "-p", str(self.prefix), "-c", str(conf), "-e", str(self.log)],
            capture_output=True,
            text=True,
            check=False,
        )
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{check.stderr}")
        self.proc = subprocess.Popen(
            [NGINX, "-p", str(self.prefix), "-c", str(conf), "-e", str(self.log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        wait_for_port(self.https_port, self.proc, self.log)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=STARTUP_SECONDS)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@contextlib.contextmanager
def running(*services: Gunicorn | Nginx) -> Iterator[None]:
    started: list[Gunicorn | Nginx] = []
    try:
        for service in services:
            service.start()
            started.append(service)
        yield
    finally:
        for service in reversed(started):
            service.stop()
