"""The RQ side of Maillage: jobs that consume the events the domain records."""
