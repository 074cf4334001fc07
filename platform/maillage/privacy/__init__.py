"""Personal data: everything held about a person, exported; their account, deleted."""
