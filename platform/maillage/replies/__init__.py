"""Replies by email: a notice's Reply-To, and the mail that comes back to it."""
