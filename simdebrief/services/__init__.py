"""The domain: plain functions that take a database session, objects and ``now``.

They flush and never commit; the request, job or command that calls them owns the
transaction.
"""
