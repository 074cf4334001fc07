"""Towns of France, their departments and regions, imported from the official communes data."""
