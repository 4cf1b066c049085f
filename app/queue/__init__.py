"""The job queue: a table, claimed with one atomic statement, kept alive by heartbeats."""
