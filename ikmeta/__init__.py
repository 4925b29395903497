"""ikmeta: ImageKit's image metadata object, computed locally, and a near-duplicate finder."""

__version__ = "0.1.0"
