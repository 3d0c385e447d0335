"""The database layer: engine and sessions, keyset pages, statements, direct reads, migrations.

It knows tables only through `Base`; no module here imports a domain.
"""
