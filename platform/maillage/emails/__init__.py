"""What people get by email: preferences, email-only subscriptions, immediate notices, digests."""
