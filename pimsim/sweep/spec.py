"""A sweep's specification: one YAML file naming a pimsim command and a grid of points.

::

    command: compare            # run, compare, program, exec, or "workload NAME"
    fixed:                      # the same in every point (optional)
      ops: and
      size: 8MiB
    grid:                       # a product of axes ...
      banks: [1, 2, 4, 8]
      timing.nFAW: [20, 40]
    # ... or a list of entries, multiplied together; the keys of one entry vary together:
    # grid:
    #   - banks: [1, 8]
    #   - config: [ddr3-1600, ddr4-2400]
    #     timing.nRCD: [11, 17]

A key is one of the command's options or arguments, spelt as on its command line without the
dashes (``banks``, ``no-data``, ``energy-profile``, ``trace``), or a dotted configuration key
(``timing.nFAW``), which becomes ``-p KEY=VALUE``. A flag takes true or false, a repeatable
option a list, and null leaves an option at its default.

The whole grid is checked before any work: every point's command line is parsed by the command
itself (its own checks of sizes, names and ranges) and its configuration resolved, so a bad
value is one :class:`SweepSpecError` naming the file, line and key. Each point is identified by
a hash of its command, its parameters and its resolved configuration (``--resume`` uses it).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import click

from pimsim.config import Config, load_config
from pimsim.config.read import MAX_FILE_BYTES, load_yaml
from pimsim.config.schema import cut, shown, shown_path
from pimsim.errors import ConfigError, SweepSpecError

#: Commands a sweep can run: the ones that report a stats document.
SWEEPABLE = ("run", "compare", "program", "exec", "workload")
#: Most points one sweep may hold (checked before the grid is expanded).
MAX_POINTS = 100_000
#: Top-level keys of a specification.
SPEC_KEYS = ("command", "description", "fixed", "grid")
#: Options a sweep sets itself or that would write outside the table (parameter name: why).
REFUSED = {
    "json_path": "each point's stats go to the sweep's table",
    "csv_path": "each point's stats go to the sweep's table",
    "plot_path": "use pimsim sweep --plot on the table",
    "drampower": "a sweep writes no per-point files",
    "params": "write configuration keys directly, e.g. timing.nFAW: 20",
    "verbose": "messages of a point are kept in its row",
    "quiet": "messages of a point are kept in its row",
}


@dataclass(frozen=True)
class Point:
    """One run of the command: ``params`` maps spec keys to values (fixed ones first),
    ``argv`` is its command line after the command name."""

    key: str
    params: dict[str, Any]
    argv: tuple[str, ...]
    config_hash: str


@dataclass(frozen=True)
class Sweep:
    """A checked specification: the command's words (``("workload", "sets")``), the keys
    that vary, and every point in grid order."""

    path: str
    command: tuple[str, ...]
    axes: tuple[str, ...]
    points: tuple[Point, ...]
    text: str


def load_sweep(path: str, checked: Callable[[int, int], None] = lambda done, total: None) -> Sweep:
    """Read and check the specification at ``path``; SweepSpecError on any problem.
    ``checked(done, total)`` is called after each point is checked (for progress)."""
    text = _read(path)
    source = shown_path(path)
    try:
        doc, node = load_yaml(text, source)
    except ConfigError as error:
        raise SweepSpecError(error.source, error.key, error.message) from None
    lines = _key_lines(node)

    def fail(key: str, message: str) -> SweepSpecError:
        line = lines.get(key) or lines.get(key.split(".", 1)[0].split("[", 1)[0])
        return SweepSpecError(f"{source}:{line}" if line else source, cut(key), message)

    if not isinstance(doc, Mapping):
        raise fail("command", "a sweep is a mapping with command: and grid:")
    for key in doc:
        if key not in SPEC_KEYS:
            raise fail(str(key), f"unknown key; a sweep has {', '.join(SPEC_KEYS)}")
    words, command = _command(doc.get("command"), fail)
    fixed = doc.get("fixed") or {}
    if not isinstance(fixed, Mapping):
        raise fail("fixed", "a mapping of key: value")
    entries = _grid(doc.get("grid"), fail)
    seen = {str(k): "fixed" for k in fixed}
    for where, entry in entries:
        for key in entry:
            if key in seen:
                raise fail(f"{where}.{key}", f"also given in {seen[key]}")
            seen[key] = where
    for key, value in fixed.items():
        _check_value(value, f"fixed.{key}", fail)
    for where, entry in entries:
        for key, values in entry.items():
            _check_value(values, f"{where}.{key}", fail)
    index = _parameters(command)
    for key in seen:
        if "." not in key:
            _parameter(index, key, fail, f"{seen[key]}.{key}")
    count = math.prod(len(next(iter(entry.values()))) for _, entry in entries)
    if count > MAX_POINTS:
        raise fail("grid", f"{count:,} points; a sweep holds at most {MAX_POINTS:,}")
    axes = tuple(key for _, entry in entries for key in entry)
    builder = _PointBuilder(words, command, index, fail, seen)
    points = []
    for combo in itertools.product(*(_rows(entry) for _, entry in entries)):
        params = {str(k): v for k, v in fixed.items()}
        for row in combo:
            params.update(row)
        points.append(builder.point(params, len(points) + 1))
        checked(len(points), count)
    return Sweep(path, words, axes, tuple(points), text)


def _read(path: str) -> str:
    """The specification's text, read with a bound."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise SweepSpecError(shown_path(path), "file", error.strerror or str(error)) from None
    if len(raw) > MAX_FILE_BYTES:
        raise SweepSpecError(shown_path(path), "file", f"larger than {MAX_FILE_BYTES:,} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SweepSpecError(shown_path(path), "file", f"not UTF-8 text ({error.reason})") from None


def _key_lines(node: Any, prefix: str = "", lines: dict[str, int] | None = None) -> dict:
    """The line of every key in the document (``grid[1].banks``, ``fixed.size``)."""
    lines = {} if lines is None else lines
    if node is None or not hasattr(node, "value") or isinstance(node.value, str):
        return lines
    for index, item in enumerate(node.value):
        if isinstance(item, tuple):  # a mapping's (key, value) pair
            key = f"{prefix}{item[0].value}"
            lines.setdefault(key, item[0].start_mark.line + 1)
            _key_lines(item[1], f"{key}.", lines)
        else:
            _key_lines(item, f"{prefix[:-1]}[{index}].", lines)
    return lines


def _command(value: Any, fail) -> tuple[tuple[str, ...], click.Command]:
    """The command's words and its click command."""
    from pimsim.cli.main import cli  # the command line is loaded only to check and run points

    if not isinstance(value, str) or not value.split():
        raise fail("command", f"name the command to run: {', '.join(SWEEPABLE)}")
    words = tuple(value.split())
    if words[0] not in SWEEPABLE:
        raise fail("command", f"{shown(words[0])} is not one of {', '.join(SWEEPABLE)}")
    command = cli.commands[words[0]]
    if isinstance(command, click.Group):
        names = sorted(command.commands)
        if len(words) != 2 or words[1] not in command.commands:
            which = f"say which {words[0]}"
            if len(words) == 2:
                which = f"{shown(words[1])} is not a {words[0]}"
            raise fail("command", f"{which}: {words[0]} {'|'.join(names)}")
        command = command.commands[words[1]]
    elif len(words) != 1:
        raise fail("command", f"{words[0]} takes no subcommand")
    return words, command


def _grid(value: Any, fail) -> list[tuple[str, dict[str, list]]]:
    """The grid's entries as (where, {key: values}), every key of one entry zipped."""
    if isinstance(value, Mapping):
        raw = [("grid", {k: v}) for k, v in value.items()]
    elif isinstance(value, list) and value:
        raw = [(f"grid[{i}]", entry) for i, entry in enumerate(value)]
    else:
        raise fail("grid", "a mapping of key: [values], or a list of such mappings")
    entries = []
    for where, entry in raw:
        if not isinstance(entry, Mapping) or not entry:
            raise fail(where, "an entry is a mapping of key: [values]")
        lengths = set()
        for key, values in entry.items():
            name = f"{where}.{key}"
            if not isinstance(values, list) or not values:
                raise fail(name, "an axis is a non-empty list of values")
            shown_values = [json.dumps(v, sort_keys=True, default=str) for v in values]
            if len(set(shown_values)) != len(values):
                twice = next(v for v in shown_values if shown_values.count(v) > 1)
                raise fail(name, f"value {cut(twice)} appears twice")
            lengths.add(len(values))
        if len(lengths) > 1:
            raise fail(where, "keys of one entry vary together: their lists need one length")
        entries.append((where, {str(k): v for k, v in entry.items()}))
    return entries


def _check_value(value: Any, where: str, fail) -> None:
    """Refuse YAML values that are no JSON value (dates, binary, sets)."""
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_value(item, where, fail)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_value(key, where, fail)
            _check_value(item, where, fail)
    elif not (value is None or isinstance(value, (str, int, float))):
        raise fail(where, f"{shown(value)} is not a value: use a string, number, true/false "
                   "or null")  # fmt: skip


def _rows(entry: dict[str, list]) -> list[dict[str, Any]]:
    """An entry's zipped values, one mapping per step."""
    keys = list(entry)
    return [dict(zip(keys, values, strict=True)) for values in zip(*entry.values(), strict=True)]


def _parameters(command: click.Command) -> dict[str, click.Parameter]:
    """The command's parameters by every spelling a spec may use."""
    index: dict[str, click.Parameter] = {}
    for param in command.params:
        index[param.name.replace("_", "-")] = param
        for opt in (*param.opts, *param.secondary_opts):
            if opt.startswith("--"):
                index.setdefault(opt[2:], param)
    return index


def _parameter(index: dict, key: str, fail, where: str) -> click.Parameter:
    """The parameter a spec key names (refusing output and verbosity options)."""
    param = index.get(key.replace("_", "-"))
    if param is None or param.name == "help":
        known = sorted(k for k, p in index.items() if p.name not in REFUSED and k != "help")
        raise fail(where, f"not an option of this command ({', '.join(known)}, or a "
                   "dotted configuration key such as timing.nFAW)")  # fmt: skip
    if param.name in REFUSED:
        raise fail(where, f"not taken by a sweep: {REFUSED[param.name]}")
    return param


class _PointBuilder:
    """Turns one point's parameters into its command line, checked by the command."""

    def __init__(self, words, command, index, fail, where_of: dict[str, str]) -> None:
        self.words, self.command, self.index, self.fail = words, command, index, fail
        self.where_of = where_of
        self.configs: dict[tuple, tuple[Config, str]] = {}

    def point(self, params: dict[str, Any], number: int) -> Point:
        """The checked point numbered ``number`` (1-based, for messages)."""
        label = ", ".join(f"{k}={cut(json.dumps(v, default=str))}" for k, v in params.items())

        def fail(key: str, message: str) -> SweepSpecError:
            where = self.where_of.get(key)
            name = f"{where}.{key}" if where else "grid"
            return self.fail(name, f"{message} (point {number}: {label})")

        argv: list[str] = []
        overrides: list[tuple[str, str]] = []
        for key, value in params.items():
            if "." in key:
                text = f"{key}={_yaml_text(value)}"
                overrides.append(("-p", text))
                argv += ["-p", text]
            else:
                argv += _arguments(_parameter(self.index, key, fail, key), key, value, fail)
        self._parse(argv, params, fail)
        config = None if params.get("config") is None else _absolute(str(params["config"]))
        if params.get("ranks") is not None:
            overrides.append(("--ranks", f"organisation.ranks={params['ranks']}"))
        config_hash = self._config_hash(config, tuple(overrides), fail)
        identity = json.dumps([self.words, sorted(params.items()), config_hash], default=str)
        key = hashlib.sha256(identity.encode()).hexdigest()[:20]
        return Point(key, params, tuple(argv), config_hash)

    def _parse(self, argv: list[str], params: dict, fail) -> None:
        """Let the command parse the point's command line (its own checks, no work)."""
        try:
            ctx = self.command.make_context(" ".join(self.words), list(argv))
        except click.ClickException as error:
            message = " ".join(error.format_message().split())
            raise fail(self._blamed(params, error, message), message) from None
        ctx.close()

    def _blamed(self, params: dict, error: click.ClickException, message: str) -> str:
        """The spec key a command-line error is about: its parameter, else the first key
        whose option the message names."""
        param = getattr(error, "param", None)
        for key in params:
            found = self.index.get(key.replace("_", "-"))
            if found is not None and (found is param or any(o in message for o in found.opts)):
                return key
        return ""

    def _config_hash(self, config: Any, overrides: tuple, fail) -> str:
        """A hash of the resolved configuration (cached: points often share one)."""
        cache_key = (config, overrides)
        if cache_key not in self.configs:
            try:
                cfg = load_config(config, overrides)
            except ConfigError as error:
                blamed = error.key if error.key in self.where_of else "config"
                raise fail(blamed, str(error)) from None
            text = json.dumps(cfg.to_dict(), sort_keys=True, default=str)
            self.configs[cache_key] = (cfg, hashlib.sha256(text.encode()).hexdigest()[:16])
        return self.configs[cache_key][1]


def _arguments(param: click.Parameter, key: str, value: Any, fail) -> list[str]:
    """The command-line words for one parameter's value."""
    if value is None:
        return []
    if isinstance(param, click.Option) and param.is_flag:
        if not isinstance(value, bool):
            raise fail(key, "a flag takes true or false")
        if value:
            return [param.opts[-1]]
        return [param.secondary_opts[-1]] if param.secondary_opts else []
    values = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not (isinstance(param, click.Option) and param.multiple):
        raise fail(key, "takes one value, not a list")
    words = []
    for item in values:
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise fail(key, f"{shown(item)} is not a value for it (a string or a number)")
        text = _absolute(str(item))
        if isinstance(param.type, click.Path) and not os.path.exists(text):
            raise fail(key, f"no such file: {shown(text)}")
        words += [text] if isinstance(param, click.Argument) else [param.opts[-1], text]
    return words


def _yaml_text(value: Any) -> str:
    """A ``-p`` value as YAML: a string as written when YAML reads it back the same,
    anything else as JSON (which YAML reads)."""
    if isinstance(value, str):
        try:
            if load_yaml(value, "-p")[0] == value:
                return value
        except ConfigError:
            pass
    return json.dumps(value)


def _absolute(text: str) -> str:
    """A value that names an existing file (or NAME=FILE), made absolute: workers may run
    in another directory."""
    name, sep, rest = text.partition("=")
    for prefix, path in (("", text), (name + sep, rest) if sep else ("", "")):
        if path and ("/" in path or "." in path) and os.path.isfile(path):
            return prefix + os.path.abspath(path)
    return text
