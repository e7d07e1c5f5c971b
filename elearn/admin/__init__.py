"""What belongs to no single feature: the administration's start page and the audit log."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from . import routes  # noqa: E402, F401
