"""What `make run` and `make test` promise a newcomer on a fresh machine."""

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent


def _make_browser(tmp_path, env_extra, target="browser", *args):
    """Run `make browser` (or `target`) where apt-get only records that it was called."""
    make = shutil.which("make")  # the README's two commands need it: no skip without it
    assert make is not None
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    apt = bin_dir / "apt-get"
    apt.write_text(f"#!/bin/sh\necho called >> {tmp_path / 'apt-called'}\nexit 1\n")
    apt.chmod(0o755)
    # Only the stub on the PATH: whether a chromium is installed here must not matter.
    env = {**os.environ, "PATH": str(bin_dir), **env_extra}
    result = subprocess.run([make, "-s", target, *args], cwd=ROOT, env=env,  # noqa: S603
                            capture_output=True, text=True)
    return result, (tmp_path / "apt-called").exists()


def test_browser_uses_elearn_chromium_instead_of_installing_one(tmp_path):
    # README: `make test` installs chromium with apt-get "when it is missing (ELEARN_CHROMIUM
    # points elsewhere)". The tests read ELEARN_CHROMIUM; `make browser` ignored it and ran
    # apt-get (which fails without root, and on systems without apt).
    chromium = tmp_path / "my-chromium"
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)
    result, apt_called = _make_browser(tmp_path, {"ELEARN_CHROMIUM": str(chromium)})
    assert result.returncode == 0, result.stderr
    assert not apt_called


def test_browser_refuses_an_elearn_chromium_that_is_not_there(tmp_path):
    result, apt_called = _make_browser(tmp_path, {"ELEARN_CHROMIUM": str(tmp_path / "none")})
    assert result.returncode != 0 and "ELEARN_CHROMIUM" in result.stderr
    assert not apt_called


def test_make_test_installs_the_certificate_font_when_it_is_missing(tmp_path):
    """A test prints every European letter in DejaVu Sans: on a machine without Debian's
    fonts-dejavu-core, `make test` failed there. It installs the font as it does Chromium."""
    font = tmp_path / "DejaVuSans.ttf"
    (tmp_path / "missing").mkdir()
    _, apt_called = _make_browser(tmp_path / "missing", {}, "fonts", f"DEJAVU={font}")
    assert apt_called
    font.write_bytes(b"")
    (tmp_path / "there").mkdir()
    result, apt_called = _make_browser(tmp_path / "there", {}, "fonts", f"DEJAVU={font}")
    assert result.returncode == 0 and not apt_called


def test_make_run_checks_the_settings_under_their_own_heading(tmp_path):
    """A refused setting used to appear right under `flask db upgrade`, as if the migration had
    failed. `make settings` (the first step of `make run`) names what it checks."""
    make = shutil.which("make")
    assert make is not None
    env = {**os.environ, "ELEARN_MIN_GROUP_SIZE": "1", "DATABASE_URL": "",
           "SECRET_KEY": "only-for-this-test-0123456789abcdef"}
    result = subprocess.run([make, "-s", "settings"], cwd=ROOT, env=env,  # noqa: S603
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert result.stdout.startswith("Checking the settings (DATABASE_URL, SECRET_KEY, ELEARN_*)")
    assert "ELEARN_MIN_GROUP_SIZE='1': expected a whole number from 2 to 1000." in result.stderr
    env["ELEARN_MIN_GROUP_SIZE"] = "5"
    assert subprocess.run([make, "-s", "settings"], cwd=ROOT, env=env,  # noqa: S603
                          capture_output=True, text=True).returncode == 0


def test_the_package_builds_with_setuptools_after_february_2027():
    # make run installs with pip, which builds with the newest setuptools. It warned on every
    # install that a `license = {text = ...}` table stops being supported after 2027-02-18;
    # from then a fresh `make run` would fail. An SPDX string needs setuptools 77.
    with (ROOT / "pyproject.toml").open("rb") as f:
        project = tomllib.load(f)
    assert isinstance(project["project"]["license"], str)
    assert project["build-system"]["requires"] == ["setuptools>=77"]


def test_the_tests_leave_the_database_in_database_url_alone(tmp_path):
    """The suite empties the database it runs on, and took DATABASE_URL: run in a shell where
    production's address was exported (as the README's production section does), it emptied
    production. It takes TEST_DATABASE_URL only."""
    import sqlite3
    import sys

    production = tmp_path / "production.sqlite"
    with sqlite3.connect(production) as connection:
        connection.execute("CREATE TABLE kept (x INTEGER)")
        connection.execute("INSERT INTO kept VALUES (1)")
    connection.close()
    env = {key: value for key, value in os.environ.items() if key != "TEST_DATABASE_URL"}
    env["DATABASE_URL"] = f"sqlite:///{production}"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_roles.py"],
        cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:]
    with sqlite3.connect(production) as connection:
        tables = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        assert tables == [("kept",)]
        assert connection.execute("SELECT x FROM kept").fetchall() == [(1,)]
    connection.close()
