"""The import graph of maillage and workers: no cycles."""
