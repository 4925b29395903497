"""The package's version, in a module of its own: modules that send it (a URL's User-Agent, the
review page) import it from here, not from the package face that imports them."""

__version__ = "0.1.0"
