"""Load option files strictly: YAML with no duplicate keys, validated against ``schema.Option``.

Every failure raises ``KnowledgeError`` whose location names the file, the line and the field
path (``teclistamab.yaml:42: rules[0].when.fact``), so a curator knows exactly what to fix.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from myelonav.errors import KnowledgeError
from myelonav.knowledge.schema import Option

_ERRORS_SHOWN = 3


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate mapping keys (plain PyYAML keeps the last one)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def load_yaml_strict(text: str) -> Any:
    """Parse YAML safely, refusing duplicate keys (raises ``yaml.YAMLError``)."""
    return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass


def parse_option(text: str, source: str) -> Option:
    """Validate the YAML text of one option file; ``source`` names it in errors."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        where = f"{source}:{line}" if line else source
        raise KnowledgeError(f"not valid YAML: {exc.problem}", location=where) from exc
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"not valid YAML: {exc}", location=source) from exc
    if not isinstance(data, dict):
        raise KnowledgeError("an option file must be a YAML mapping", location=source)
    try:
        return Option.model_validate(data)
    except ValidationError as exc:
        raise _knowledge_error(exc, text, source) from exc


def load_option(path: Path | Traversable) -> Option:
    """Load one option file; its file name (without .yaml) must equal its ``id``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(f"cannot read option file: {exc}", location=str(path)) from exc
    option = parse_option(text, str(path))
    stem = path.name.removesuffix(".yaml")
    if option.id != stem:
        raise KnowledgeError(
            f"id {option.id!r} does not match the file name {path.name!r}", location=str(path)
        )
    return option


def load_options(directory: Path | Traversable | None = None) -> dict[str, Option]:
    """Every ``*.yaml`` option in a directory (default: the bundled ones), keyed by id."""
    folder = directory if directory is not None else bundled_options_dir()
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)
    if not files:
        raise KnowledgeError("no option files found", location=str(folder))
    return _index(load_option(f) for f in files)


@cache
def bundled_options() -> dict[str, Option]:
    """The options shipped with myelonav, loaded and validated once per process."""
    return load_options()


def bundled_options_dir() -> Traversable:
    return resources.files("myelonav.knowledge").joinpath("data/options")


def _index(options: Iterable[Option]) -> dict[str, Option]:
    found: dict[str, Option] = {}
    for option in options:
        if option.id in found:
            raise KnowledgeError(f"option id {option.id!r} is defined twice")
        found[option.id] = option
    return found


# --------------------------------------------------------------------------- error reporting


def _knowledge_error(exc: ValidationError, text: str, source: str) -> KnowledgeError:
    try:
        root: yaml.Node | None = yaml.compose(text, Loader=_StrictLoader)
    except yaml.YAMLError:  # pragma: no cover - the text already parsed once
        root = None
    problems: list[tuple[int | None, str, str]] = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key (not in the schema; check the spelling)"
        elif error["type"] == "missing":
            message = "required field is missing"
        problems.append((_line_of(root, loc), _dotted(root, loc), message))
    line, path, message = problems[0]
    where = f"{source}:{line}" if line else source
    if path:
        where = f"{where}: {path}"
    more = [f"{p or '(top)'}: {m}" for _, p, m in problems[1:_ERRORS_SHOWN]]
    if more:
        message += "; also " + "; ".join(more)
    if len(problems) > _ERRORS_SHOWN:
        message += f"; and {len(problems) - _ERRORS_SHOWN} more"
    return KnowledgeError(message, location=where)


def _walk(root: yaml.Node | None, loc: tuple[Any, ...]) -> tuple[yaml.Node | None, list[Any]]:
    """Follow a pydantic error location through the YAML node tree.

    Parts of the location that are not in the document (union tags such as ``leaf``) are
    skipped; the result is the deepest node reached and the parts that were in the data.
    """
    node: yaml.Node | None = root
    kept: list[Any] = []
    for part in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            child = next((v for k, v in node.value if k.value == part), None)
            if child is not None or part not in _UNION_TAGS:
                kept.append(part)
            if child is not None:
                node = child
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            kept.append(part)
            if 0 <= part < len(node.value):
                node = node.value[part]
        elif part not in _UNION_TAGS:
            kept.append(part)
    return node, kept


_UNION_TAGS = frozenset({"all", "any", "not", "leaf"})


def _line_of(root: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    node, _ = _walk(root, loc)
    return node.start_mark.line + 1 if node is not None else None


def _dotted(root: yaml.Node | None, loc: tuple[Any, ...]) -> str:
    _, parts = _walk(root, loc)
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


__all__ = [
    "bundled_options",
    "bundled_options_dir",
    "load_option",
    "load_options",
    "load_yaml_strict",
    "parse_option",
]
