"""Reading configuration text: YAML files and ``-p`` values, bounded and without surprises.

One loader reads every piece of configuration text, a file or a ``-p`` value: YAML's safe
subset without anchors and aliases (so a few hundred bytes cannot expand to gigabytes), nested
at most ``MAX_DEPTH`` levels, from a file of at most ``MAX_FILE_BYTES`` (read with a bound,
so ``/dev/zero`` is refused rather than read forever). Every problem is one ConfigError.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from pimsim.config.schema import cut, shown, shown_path
from pimsim.errors import ConfigError

#: Largest configuration file, in bytes (the presets are about 5 KiB).
MAX_FILE_BYTES = 1 << 20
#: Deepest nesting of collections in a document (the presets nest 3 deep).
MAX_DEPTH = 16

_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"


class _PyParser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """PyYAML's own parser, for a PyYAML built without libyaml."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)


#: libyaml's parser when PyYAML was built with it (tens of times faster), else PyYAML's own.
_Parser = yaml.cyaml.CParser if yaml.__with_libyaml__ else _PyParser


class _Resolver(yaml.resolver.Resolver):
    """YAML 1.1's implicit types, but a plain number is an int or float only when it reads
    as it looks: decimal (``016`` is not octal 14, ``1:0`` not sexagesimal 60, no ``_``),
    ``0x`` hex, or a decimal float (``1e-3`` too); any other form stays text, so the key's
    check reports it."""


_Resolver.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT, _FLOAT)]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}
_Resolver.add_implicit_resolver(
    _INT, re.compile(r"[-+]?(?:0|[1-9][0-9]*)\Z|0x[0-9a-fA-F]+\Z"), list("-+0123456789")
)
_Resolver.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\Z"
        r"|[-+]?[0-9]+[eE][-+]?[0-9]+\Z|[-+]?\.(?:inf|Inf|INF)\Z|\.(?:nan|NaN|NAN)\Z"
    ),
    list("-+0123456789."),
)


class _Loader(yaml.composer.Composer, yaml.constructor.SafeConstructor, _Resolver):
    """PyYAML's safe loader (its composer on :data:`_Parser`'s events), refusing anchors,
    aliases and nesting beyond MAX_DEPTH."""

    def __init__(self, stream: str) -> None:
        self.parser = _Parser(stream)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        _Resolver.__init__(self)
        self.depth = 0

    def check_event(self, *choices: type) -> bool:
        return self.parser.check_event(*choices)

    def peek_event(self) -> yaml.Event:
        return self.parser.peek_event()

    def get_event(self) -> yaml.Event:
        return self.parser.get_event()

    def dispose(self) -> None:
        self.parser.dispose()

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.MarkedYAMLError(
                problem="anchors and aliases (& and *) are not supported",
                problem_mark=event.start_mark,
            )
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise yaml.MarkedYAMLError(
                problem=f"nested more than {MAX_DEPTH} levels deep", problem_mark=event.start_mark
            )
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def load_yaml(text: str, source: str) -> tuple[Any, yaml.Node | None]:
    """The document of ``text`` and its node tree; ConfigError naming ``source`` and line."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        context = (
            f" ({error.context} on line {error.context_mark.line + 1})"
            if (error.context and error.context_mark)
            else ""
        )
        problem = " ".join(str(error.problem).split())[:200]
        raise ConfigError(where, "YAML syntax", f"{problem}{context}") from None
    except yaml.YAMLError as error:
        raise ConfigError(source, "YAML syntax", " ".join(str(error).split())[:200]) from None
    except (ValueError, OverflowError) as error:  # a tagged value PyYAML cannot build
        raise ConfigError(source, "YAML syntax", f"bad value: {shown(str(error))}") from None
    finally:
        loader.dispose()


def parse_yaml(text: str, source: str) -> tuple[Any, dict[str, int]]:
    """The document and the line of each top-level and section key (for error messages)."""
    doc, node = load_yaml(text, source)
    lines: dict[str, int] = {}

    def record(mapping: yaml.Node | None, prefix: str, depth: int) -> None:
        if not isinstance(mapping, yaml.MappingNode):
            return
        for key_node, value_node in mapping.value:
            key, line = f"{prefix}{key_node.value}", key_node.start_mark.line + 1
            if key in lines:
                where, message = f"{source}:{line}", f"duplicate key (first on line {lines[key]})"
                raise ConfigError(where, cut(key), message)
            lines[key] = line
            if depth < 2:  # sections, and the decoder table within pim
                record(value_node, f"{key}.", depth + 1)

    record(node, "", 0)
    return doc, lines


def parse_value(raw: str, key: str) -> Any:
    """A ``-p KEY=VALUE`` value, read as YAML by the same loader."""
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError("-p", key, f"value longer than {MAX_FILE_BYTES:,} characters")
    try:
        return load_yaml(raw, "-p")[0]
    except ConfigError as error:
        raise ConfigError("-p", key, f"cannot read value {shown(raw)}: {error.message}") from None


def read_file(path: str, known_presets: str) -> tuple[Any, dict[str, int]]:
    """A configuration file's document and key lines; ``known_presets`` is said when a
    missing file looks like a misspelt preset name."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        looks_like_name = not Path(path).suffix and "/" not in path and "\\" not in path
        message = f"no such preset or file; {known_presets}" if looks_like_name else "no such file"
        raise ConfigError("--config", shown_path(path), message) from None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ConfigError("--config", shown_path(path), f"cannot read: {reason}") from None
    if len(data) > MAX_FILE_BYTES:
        message = f"cannot read: larger than {MAX_FILE_BYTES:,} bytes"
        raise ConfigError("--config", shown_path(path), message)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        message = f"cannot read: not UTF-8 text (byte {error.start})"
        raise ConfigError("--config", shown_path(path), message) from None
    return parse_yaml(text, shown_path(path))
