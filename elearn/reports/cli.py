import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _

from . import export, services
from .forms import filters


@click.group("reports")
def reports_cli():
    """Reports for HR: completion counts per office."""


# The report form's fields and the options that set them.
OPTIONS = {"thema": "--subject", "von": "--from", "bis": "--to", "amt": "--office"}


def _without_label(field: str, message: str) -> str:
    """A date's message without the form's label ("Von: …"): the option stands before it."""
    label = {"von": _("Von"), "bis": _("Bis")}.get(field)
    return message.removeprefix(f"{label}: ") if label else message


@reports_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), required=True,
              help="CSV (semicolons, for German Excel) or XLSX.")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True,
              help="File to write (replaced if it exists).")
@click.option("--from", "date_from", default=None,
              help="First day, YYYY-MM-DD or DD.MM.YYYY.")
@click.option("--to", "date_to", default=None, help="Last day, YYYY-MM-DD or DD.MM.YYYY.")
@click.option("--office", default=None, help="Office code: only this part of the tree.")
@click.option("--subject", default=None,
              help="Course or track slug (default: the Digitalisierungsführerschein).")
@with_appcontext
def export_command(fmt, out, date_from, date_to, office, subject):
    """Write the report as CSV or XLSX, for scheduled exports."""
    try:
        chosen = filters(subject, date_from, date_to, office)
        report = services.build(chosen["subject"], date_from=chosen["date_from"],
                                date_to=chosen["date_to"], office=chosen["office"],
                                min_group=current_app.config["MIN_GROUP_SIZE"])
    except services.ReportError as error:
        # Each problem under the option it is about: the messages name the web form's fields.
        raise click.ClickException("\n".join(
            f"{OPTIONS[field]}: {_without_label(field, message)}" if field in OPTIONS
            else message for field, message in error.problems)) from None
    body = export.to_csv(report) if fmt == "csv" else export.to_xlsx(report)
    try:
        with open(out, "wb") as f:
            f.write(body)
    except OSError as error:  # a folder that does not exist, no permission, a full disk
        raise click.ClickException(f"{out}: {error.strerror or error}") from None
    count = len(report.rows)
    click.echo(f"{count} {'office' if count == 1 else 'offices'} written to {out}")
