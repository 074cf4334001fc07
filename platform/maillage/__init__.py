"""Maillage: the solidarity network of small towns for their digital public services."""
