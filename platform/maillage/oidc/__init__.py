"""Sign-in through an OpenID Connect provider, and town membership verified from its claims."""
