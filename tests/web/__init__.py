"""What every page and request goes through (maillage/web.py, bodies.py, fields.py, headers.py):
bounded input, forms, security headers."""
