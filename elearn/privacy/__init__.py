"""Data protection: retention, a person's own data, erasure."""

from flask import Blueprint

bp = Blueprint("privacy", __name__)

from . import routes  # noqa: E402, F401
