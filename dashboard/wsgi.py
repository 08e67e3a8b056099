"""WSGI entry for gunicorn: each worker imports this after the fork and so builds its own app and engine."""

from dashboard.app import create_app

app = create_app()
server = app.server
