"""HR reports per office: counts only, small groups suppressed, exports for German Excel."""

from flask import Blueprint

bp = Blueprint("reports", __name__)

from . import routes  # noqa: E402, F401
