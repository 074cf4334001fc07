"""Notifications: what the events of Maillage mean for each person they concern."""
