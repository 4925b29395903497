"""Sources: a name to its bytes. Files and standard input (:mod:`.read`), http(s) URLs
(:mod:`.urls`), object stores (:mod:`.stores`), folders and prefixes walked (:mod:`.walk`), and
what they all share (:mod:`.base`). Nothing is imported here: each user imports what it needs.
"""
