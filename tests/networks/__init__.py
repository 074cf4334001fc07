"""Networks (maillage/networks)."""
