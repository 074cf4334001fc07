"""The production entry point, for gunicorn: `gunicorn maillage.wsgi:app`.

It is a production start: it refuses to run without SECRET_KEY.
"""

from maillage import settings
from maillage.app import create_app
from maillage.health import logs

logs.configure(settings.log_format())
app = create_app({"PRODUCTION": True, "SESSION_COOKIE_SECURE": True})
