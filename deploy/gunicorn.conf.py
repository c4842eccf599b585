"""gunicorn settings for Brug behind nginx (see deploy/README.md).

Environment overrides: BRUG_GUNICORN_BIND, BRUG_GUNICORN_WORKERS. Command-line options win
over this file (the tests pass --bind and --workers).
"""

import multiprocessing
import os

wsgi_app = "forms_backend:create_app()"
bind = os.environ.get("BRUG_GUNICORN_BIND", "127.0.0.1:8001")
# Sync workers: every request is short and does its own transaction; several processes give
# parallelism. The app is loaded once in the master, so a worker that dies (or is recycled)
# is replaced in milliseconds instead of re-importing everything; post_fork drops any database
# connection the master might hold, so no connection is ever shared between processes.
preload_app = True
workers = int(os.environ.get("BRUG_GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8)))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then; the jitter keeps them from restarting all at once.
max_requests = 2000
max_requests_jitter = 200
# nginx on the same machine sets X-Forwarded-Proto; trust it only from there.
forwarded_allow_ips = "127.0.0.1,::1"
# nginx writes the access log (without query strings); gunicorn logs only errors, to stderr.
accesslog = None
errorlog = "-"
loglevel = "warning"
proc_name = "brug-web"


def post_fork(server, worker):
    from forms_backend import db

    app = getattr(server.app, "callable", None)
    if app is not None:
        db.get_engine(app).dispose(close=False)
