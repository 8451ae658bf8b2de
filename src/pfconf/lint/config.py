"""pflint's settings from ``[tool.pflint]`` in pyproject.toml or from ``.pflint.toml``.

Found by walking up from the first target to the filesystem root, nearest file first, like
ruff and yamllint, or read from the one file ``--config`` names.  Command-line flags
override what the file says.
"""

from __future__ import annotations

import os
from typing import Any

import attrs

from .. import _toml as tomllib
from ..errors import ReadError
from ..kb import Version, parse_version
from .finding import SEVERITIES


class ConfigError(ValueError):
    """A configuration file pflint cannot use; the message names the file."""


@attrs.define
class Settings:
    path: str | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severities: dict[str, str] = attrs.Factory(dict)
    per_file_ignores: dict[str, tuple[str, ...]] = attrs.Factory(dict)
    postfix_version: str | None = None
    severity_threshold: str | None = None
    certificate_expiry_days: int | None = None


def find_config(start: str) -> tuple[str, dict[str, Any]] | None:
    """The nearest ``.pflint.toml`` or pyproject.toml with ``[tool.pflint]`` above ``start``."""
    directory = os.path.abspath(start if os.path.isdir(start) else os.path.dirname(start) or ".")
    while True:
        # lexists, not isfile: a settings file that is a directory or a FIFO is an error to
        # report, not a file to pass over in favour of one further up
        own = os.path.join(directory, ".pflint.toml")
        if os.path.lexists(own):
            return own, _table(own, _read(own))
        pyproject = os.path.join(directory, "pyproject.toml")
        if os.path.lexists(pyproject):
            data = _read(pyproject)
            if "pflint" in _tool(pyproject, data):
                return pyproject, _table(pyproject, data)
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _read(path: str) -> dict[str, Any]:
    try:
        return tomllib.load_file(path)
    except ReadError as exc:
        raise ConfigError(str(exc)) from None


def _tool(path: str, data: dict[str, Any]) -> dict[str, Any]:
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: tool must be a table")
    return tool


def _table(path: str, data: dict[str, Any]) -> dict[str, Any]:
    """pflint's settings in a file: ``[tool.pflint]`` if there is one, else the top level."""
    tool = _tool(path, data)
    if "pflint" not in tool:
        return data
    table = tool["pflint"]
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: tool.pflint must be a table")
    return table


def _codes(path: str, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: {key} must be a list of rule codes")
    return tuple(v.upper() for v in value)


def target_release(text: str | None) -> Version | None:
    """The Postfix release ``postfix-version`` (or ``--postfix-version``) names: None for
    none (the newest pflint knows), the installed one for ``auto``.  ValueError for a text
    that is not a version; pfconf.postfix.PostfixError when ``auto`` cannot ask Postfix."""
    if text == "auto":
        from ..postfix import installed_version

        text = installed_version()
    return parse_version(text) if text else None


def load_settings(start: str) -> Settings:
    """The settings that apply to ``start``: from the nearest settings file, else defaults."""
    found = find_config(start)
    if found is None:
        return Settings()
    return _settings(*found)


def read_settings(path: str) -> Settings:
    """The settings in exactly the file ``path`` (``pflint --config``).

    A pyproject.toml must have ``[tool.pflint]``; any other file holds the settings at its
    top level (or, like .pflint.toml, under ``[tool.pflint]``).
    """
    data = _read(path)
    if os.path.basename(path) == "pyproject.toml" and "pflint" not in _tool(path, data):
        raise ConfigError(f"{path}: no [tool.pflint] table in this file")
    return _settings(path, _table(path, data))


def _settings(path: str, table: dict[str, Any]) -> Settings:
    settings = Settings(path=path)
    known = {
        "select",
        "ignore",
        "severity",
        "per-file-ignores",
        "postfix-version",
        "severity-threshold",
        "certificate-expiry-days",
    }
    for key, value in table.items():
        normalized = key.replace("_", "-")
        if normalized not in known:
            raise ConfigError(f"{path}: unknown pflint setting {key!r}")
        if normalized == "select":
            settings.select = _codes(path, key, value)
        elif normalized == "ignore":
            settings.ignore = _codes(path, key, value)
        elif normalized == "severity":
            if not isinstance(value, dict):
                raise ConfigError(
                    f'{path}: severity must be a table of CODE = "error"|"warning"|"info"'
                )
            for code, level in value.items():
                if level not in SEVERITIES:
                    raise ConfigError(
                        f"{path}: severity of {code} must be one of {', '.join(SEVERITIES)}"
                    )
                settings.severities[code.upper()] = level
        elif normalized == "per-file-ignores":
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: per-file-ignores must be a table of glob = [codes]")
            base = os.path.dirname(path)
            for pattern, codes in value.items():
                settings.per_file_ignores[pattern] = _codes(path, key, codes)
                if not os.path.isabs(pattern):
                    settings.per_file_ignores[os.path.join(base, pattern)] = (
                        settings.per_file_ignores[pattern]
                    )
        elif normalized == "postfix-version":
            if str(value) != "auto":
                try:
                    parse_version(str(value))
                except ValueError:
                    raise ConfigError(
                        f'{path}: postfix-version must look like 3.9 or be "auto"'
                    ) from None
            settings.postfix_version = str(value)
        elif normalized == "certificate-expiry-days":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{path}: certificate-expiry-days must be a whole number >= 0")
            settings.certificate_expiry_days = value
        elif normalized == "severity-threshold":
            if value not in SEVERITIES:
                raise ConfigError(
                    f"{path}: severity-threshold must be one of {', '.join(SEVERITIES)}"
                )
            settings.severity_threshold = value
    return settings
