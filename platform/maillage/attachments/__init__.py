"""Files attached to help answers and comments (by a reply by email)."""
