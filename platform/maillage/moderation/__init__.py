"""Reports of content by anyone signed in; hiding and restoring by moderators, audited."""
