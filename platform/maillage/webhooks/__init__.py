"""Webhooks of networks: signed POSTs of the events of their towns to a URL an admin chose."""
