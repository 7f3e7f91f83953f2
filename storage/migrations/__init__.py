"""Alembic migrations of the presscut schema, run by `storage.Store.upgrade`.

``env.py`` and ``versions/`` are read by Alembic from this folder, found next
to this file, so they work from a checkout and from an installed package alike.
"""
