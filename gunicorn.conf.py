"""gunicorn settings, read from the project's settings (CC_BIND, CC_WORKERS, CC_THREADS)."""

from dashboard.settings import load

_s = load()

wsgi_app = "dashboard.wsgi:server"
bind = [_s.bind]
workers = _s.workers
threads = _s.threads
worker_class = "gthread"
timeout = 60
graceful_timeout = 10
# No preload: every worker imports the app after forking, so database engines and sockets are never
# shared across processes (queries.engine also re-creates its engine when it sees a new pid).
preload_app = False
# gunicorn's control socket defaults to one path per user; two instances on a host (a second
# deployment, the browser tests' servers) would fight over it, so each instance keeps its own.
control_socket = str(_s.instance_dir / "gunicorn.ctl")
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
errorlog = "-"
loglevel = "info"
