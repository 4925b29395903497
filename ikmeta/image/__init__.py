"""Image: one image's bytes to the metadata object and its hashes. Decoding (:mod:`.decode`),
the limits on decoding (:mod:`.limits`), the metadata object (:mod:`.metadata`), EXIF
(:mod:`.exif`, :mod:`.exif_values`, the generated :mod:`.exif_tags`, :mod:`.makernote`), HEIF
boxes (:mod:`.isobmff`), JPEG quality (:mod:`.quality`), the pHash (:mod:`.perceptual`) and
plain borders (:mod:`.borders`). Nothing is imported here, so that a light command never
loads Pillow.
"""
