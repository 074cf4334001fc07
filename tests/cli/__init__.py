"""The `maillage` command line (maillage/cli.py)."""
