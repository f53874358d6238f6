"""Read saved ClinicalTrials.gov v2 JSON from disk: one study, a page, or JSON lines.

Accepted per file:
- ``.json`` holding one study (``{"protocolSection": …}``), a page (``{"studies": [...]}``,
  as ``/studies`` returns) or a list of studies;
- ``.jsonl`` / ``.ndjson``: one study (or one page) per line; blank lines are skipped.
A directory is read file by file (sorted, not recursive). Every record is parsed before
anything is written, and an error names the file and the line or array index.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from myelonav.errors import ImportError_, TrialsDataError
from myelonav.trials.models import Study
from myelonav.trials.store import StudyRecord

JSON_SUFFIXES = frozenset({".json"})
LINES_SUFFIXES = frozenset({".jsonl", ".ndjson"})


def _studies_in(obj: Any, where: str) -> Iterator[tuple[dict[str, Any], str]]:
    if isinstance(obj, dict) and "protocolSection" in obj:
        yield obj, where
    elif isinstance(obj, dict) and isinstance(obj.get("studies"), list):
        for i, item in enumerate(obj["studies"]):
            yield item, f"{where} studies[{i}]"
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            yield item, f"{where}[{i}]"
    else:
        raise ImportError_(
            "not a v2 study, a page with 'studies', or a list of studies", location=where
        )


def _record(obj: Any, where: str, *, is_sample: bool) -> StudyRecord:
    if not isinstance(obj, dict):
        raise ImportError_("a study must be a JSON object", location=where)
    try:
        study = Study.from_v2(obj, is_sample=is_sample)
    except TrialsDataError as exc:
        raise ImportError_(exc.message, location=f"{where}: {exc.location}") from None
    return StudyRecord(study=study, raw=obj)


def read_file(path: Path, *, is_sample: bool = False) -> list[StudyRecord]:
    """Every study in one file; raises ``ImportError_`` naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportError_(f"cannot read: {exc}", location=str(path)) from exc
    records: list[StudyRecord] = []
    if path.suffix.lower() in LINES_SUFFIXES:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ImportError_(f"invalid JSON ({exc.msg})", location=where) from None
            records += [_record(o, w, is_sample=is_sample) for o, w in _studies_in(obj, where)]
        return records
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportError_(
            f"invalid JSON ({exc.msg})", location=f"{path}:{exc.lineno}:{exc.colno}"
        ) from None
    return [_record(o, w, is_sample=is_sample) for o, w in _studies_in(obj, str(path))]


def read_path(
    path: Path,
    *,
    is_sample: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> list[StudyRecord]:
    """Every study in a file or in the ``.json``/``.jsonl`` files of a directory.

    When one NCT id occurs twice, the later record (by file order) wins. ``progress`` is
    called with (files read, files in all) after each file.
    """
    if not path.exists():
        raise ImportError_("no such file or directory", location=str(path))
    if path.is_dir():
        files = sorted(
            p
            for p in path.iterdir()
            if p.is_file() and p.suffix.lower() in JSON_SUFFIXES | LINES_SUFFIXES
        )
        if not files:
            raise ImportError_("no .json or .jsonl files in the directory", location=str(path))
    else:
        files = [path]
    by_id: dict[str, StudyRecord] = {}
    for done, file in enumerate(files, start=1):
        for record in read_file(file, is_sample=is_sample):
            by_id[record.study.nct_id] = record
        if progress is not None:
            progress(done, len(files))
    return list(by_id.values())


__all__ = ["read_file", "read_path"]
