"""The live channel (maillage/realtime)."""
