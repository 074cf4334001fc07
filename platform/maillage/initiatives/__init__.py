"""Initiatives: what towns did for their digital public services, and where it spread."""
