"""Catalogue, course and module pages, content sync and learner progress."""

from flask import Blueprint

bp = Blueprint("catalog", __name__)

from . import routes  # noqa: E402, F401
