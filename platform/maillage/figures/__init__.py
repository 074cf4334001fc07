"""Figures of networks: members, population, overlap, labels, boards, reach and activity,
each computed by one query from the data, for the API, its CSV files and the figures page."""
