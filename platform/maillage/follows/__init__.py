"""Follows: the themes, towns, initiatives and help requests a person wants to hear about."""
