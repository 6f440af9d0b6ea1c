"""lessons-kb: validate, index, search and publish SME technology lessons."""

__version__ = "0.1.0"
