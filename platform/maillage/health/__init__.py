"""Health that operators can see: is the process alive, are its services reachable, its
numbers for Prometheus, and logs a machine can read.

`views` answers /healthz, /readyz and /metrics; `queries` holds the readiness checks and the
gauges health reads itself (the outbox, live sockets, digests); `metrics` the request
histogram and the collector of every declared gauge (`maillage.gauges`); `logs` the format of
the log lines and the ids they carry; `gunicorn` the settings of the web processes' gunicorn.
Nothing is imported here: gunicorn's master reads `gunicorn` before its workers patch for
gevent, and must not load the app with it.
"""
