"""The test suite of Maillage."""
