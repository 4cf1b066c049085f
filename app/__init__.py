"""evalboard: the service (API, queue, worker, pages)."""

__version__ = "0.1.0"
