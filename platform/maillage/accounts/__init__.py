"""People: accounts, their memberships of towns, their expertise and their API tokens."""
