"""Peer help: requests routed to the referents who can answer them, answers, offers."""
