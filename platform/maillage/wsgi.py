"""The production entry point, for gunicorn: `gunicorn maillage.wsgi:app`.

It is a production start: it refuses to run without SECRET_KEY.
"""

from maillage.app import create_app

app = create_app({"PRODUCTION": True, "SESSION_COOKIE_SECURE": True})
