"""Themes of towns' digital work: what initiatives, help requests and expertise are about."""
