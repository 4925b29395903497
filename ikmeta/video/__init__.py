"""Video: one video's bytes to the metadata object of ImageKit's Metadata API for videos. Which
containers are videos (:mod:`.container`, from their first bytes) and what a video holds
(:mod:`.probe`, read with PyAV, the ``video`` extra). Nothing is imported here, so that a
command that reads no video never loads PyAV.
"""

import importlib.util

INSTALL = "pip install 'ikmeta[video]'"


def available() -> bool:
    """Whether PyAV, which reads videos, is installed (looked up, not imported).

    >>> available() in (True, False)
    True
    """
    return importlib.util.find_spec("av") is not None
