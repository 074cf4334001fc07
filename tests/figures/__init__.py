"""The figures of networks (maillage/figures)."""
