"""WSGI entry for gunicorn: each worker imports this after the fork and so builds its own app and engine,
and starts its cache warm-up thread (dashboard.warmup; CC_WARMUP_SECONDS=0 turns it off)."""

from dashboard import warmup
from dashboard.app import create_app, settings

app = create_app()
server = app.server
warmup.start(settings().warmup_seconds, server)
