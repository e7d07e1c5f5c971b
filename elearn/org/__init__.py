"""Organisation: the administration's offices (Ämter) as a tree.

The blueprint lives in routes.py, not here: nearly every model imports org.models, and
importing the routes with the package would pull the whole application into those imports.
"""
