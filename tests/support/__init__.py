"""What the tests share, and bench/ with them: helpers and the classes behind the fixtures.

No test module imports another; what two of them need lives here (or is a fixture of
tests/conftest.py).
"""
