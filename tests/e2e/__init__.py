"""The whole stack, as in production: gunicorn web processes, `maillage worker`, Redis, and
the browser (tests/support/stack.py starts it), and the faults played on it."""
