"""kbook: faithful, runnable models of containers and Kubernetes, the package behind the book."""

__version__ = "0.1.0"
