"""The map of the network: the departments of France shaded by initiatives, member towns or
open help requests, each a link to its initiatives, beside the table of the same numbers."""
