"""nextdigit: fast, exact number theory for autoregressive sampling."""
__version__ = "0.1.0"
