"""harmonise: make local community safety surveys comparable."""

__version__ = "0.1.0"

__all__ = ["__version__"]
