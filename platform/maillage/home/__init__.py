"""The home page: a feed of what the signed-in person follows, or the network's news."""
