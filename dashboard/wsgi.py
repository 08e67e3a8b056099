"""WSGI entry for gunicorn: each worker imports this after the fork and so builds its own app and engine,
freezes what it built out of the garbage collector's reach, and starts its cache warm-up thread
(dashboard.warmup; CC_WARMUP_SECONDS=0 turns it off)."""

import gc

from dashboard import warmup
from dashboard.app import create_app, settings

app = create_app()
server = app.server
# What the worker built to get here (modules, the app, its page registry and layouts: most of its heap) lives
# as long as the worker: frozen, the collector no longer walks it on every full collection. The first
# render of a page in a worker triggered one over the whole heap (~110 ms of the price page's ~290 ms first
# render on PostgreSQL at full scale, in process).
gc.collect()
gc.freeze()
warmup.start(settings().warmup_seconds, server)
