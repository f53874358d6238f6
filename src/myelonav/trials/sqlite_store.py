"""The embedded trial store: one SQLite file (stdlib ``sqlite3``), FTS5 for full text.

Chosen by measurement over DuckDB and bm25s (see ``benchmarks/compare_trials_backends.py``):
SQLite imports faster row by row, answers point lookups in microseconds, ships FTS5 in the
standard library (DuckDB's FTS extension is a run-time download, which myelonav cannot do),
and keeps the index on disk instead of in memory.

Tables: ``studies`` (typed columns for filters, the zlib-compressed raw v2 JSON - the one copy
of each study: the typed ``Study`` is rebuilt from it only for the trials read - the digest of
the text it was indexed with, the plasma-cell flag and, for those candidates, a small
compressed match record), ``criterion_bodies`` (each distinct parsed criterion once,
compressed, by digest) and ``study_criteria`` (which bodies a study's parse is made of, in
order), ``sites`` (status and coordinates per location),
``studies_fts`` (contentless FTS5, rowid = ``studies.id``; the text lives once, compressed,
in ``studies``), ``runs`` + ``staging`` (sync runs, resumable), ``meta``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import sqlite3
import uuid
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from myelonav.errors import StoreError
from myelonav.patient.vocabulary import vocabulary
from myelonav.trials.geo import EARTH_RADIUS_MILES, bounding_box, nearest_site
from myelonav.trials.models import OPEN_STATUSES, Study
from myelonav.trials.store import (
    ApplyReport,
    CriteriaParser,
    RunState,
    SearchHit,
    SearchQuery,
    StoreStats,
    StudyRecord,
)

# Bump when the schema or ``Study.search_text`` changes (contentless FTS rows are deleted by
# replaying the text they were indexed with).
SCHEMA_VERSION = 5
# bm25 column weights: title, conditions, interventions, summary, criteria
FIELD_WEIGHTS: tuple[float, float, float, float, float] = (6.0, 4.0, 4.0, 1.5, 1.0)
SAMPLE_SOURCE = "sample"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS studies (
    id INTEGER PRIMARY KEY,
    nct_id TEXT NOT NULL UNIQUE,
    brief_title TEXT NOT NULL,
    overall_status TEXT,
    phases TEXT NOT NULL,
    drug_ids TEXT NOT NULL,
    drug_classes TEXT NOT NULL,
    targets TEXT NOT NULL,
    last_update TEXT,
    is_sample INTEGER NOT NULL,
    source TEXT NOT NULL,
    raw BLOB NOT NULL,
    fts_digest BLOB,
    plasma_cell INTEGER NOT NULL,
    match_rec BLOB NOT NULL,
    criteria_head TEXT,
    criteria_error TEXT,
    stored_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS studies_candidates ON studies (plasma_cell, overall_status);
CREATE TABLE IF NOT EXISTS criterion_bodies (
    id INTEGER PRIMARY KEY,
    digest BLOB NOT NULL UNIQUE,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS study_criteria (
    study_id INTEGER NOT NULL,
    pos INTEGER NOT NULL,
    body_id INTEGER NOT NULL,
    cid TEXT NOT NULL,
    PRIMARY KEY (study_id, pos)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS study_criteria_body ON study_criteria (body_id);
CREATE INDEX IF NOT EXISTS studies_status ON studies (overall_status, last_update);
CREATE INDEX IF NOT EXISTS studies_updated ON studies (last_update);
CREATE INDEX IF NOT EXISTS studies_source ON studies (source);
CREATE TABLE IF NOT EXISTS sites (
    study_id INTEGER NOT NULL,
    status TEXT,
    lat REAL,
    lon REAL,
    x REAL,
    y REAL,
    z REAL
);
CREATE INDEX IF NOT EXISTS sites_study ON sites (study_id);
CREATE INDEX IF NOT EXISTS sites_geo ON sites (lat, lon, x, y, z, study_id)
    WHERE status = 'RECRUITING';
CREATE VIRTUAL TABLE IF NOT EXISTS studies_fts USING fts5 (
    title, conditions, interventions, summary, criteria,
    content = '',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    mode TEXT NOT NULL,
    params TEXT NOT NULL,
    page_token TEXT,
    pages INTEGER NOT NULL DEFAULT 0,
    studies INTEGER NOT NULL DEFAULT 0,
    fetched_all INTEGER NOT NULL DEFAULT 0,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS staging (
    run_id INTEGER NOT NULL,
    nct_id TEXT NOT NULL,
    raw BLOB NOT NULL,
    model BLOB NOT NULL,
    parsed BLOB,
    PRIMARY KEY (run_id, nct_id)
);
"""

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def _pack(obj: Any) -> bytes:
    return zlib.compress(json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode(), 3)


def _unpack(blob: bytes) -> Any:
    return json.loads(zlib.decompress(blob))


def _model_blob(study: Study) -> bytes:
    return zlib.compress(study.model_dump_json(exclude={"extra"}).encode(), 3)


def _from_raw(blob: bytes, is_sample: int | bool) -> Study:
    """The typed study rebuilt from its stored registry record (``extra`` left empty): the
    store keeps no typed copy, only the raw record and, for candidates, the match record."""
    study = Study.from_v2(_unpack(blob), is_sample=bool(is_sample))
    study.extra = {}
    return study


def _fts_text(study: Study) -> tuple[str, str, str, str, str]:
    text = study.search_text()
    return (
        text["title"],
        text["conditions"],
        text["interventions"],
        text["summary"],
        text["criteria"],
    )


def _digest(fts: Sequence[str]) -> bytes:
    """Of the text a study was indexed with: a contentless FTS row is deleted by replaying that
    exact text, rebuilt from the raw record; the digest proves the rebuild is the same text."""
    h = hashlib.blake2b(digest_size=8)
    for part in fts:
        h.update(part.encode())
        h.update(b"\x00")
    return h.digest()


# Criteria texts longer than this are parsed at match time instead (and said so): a parse at
# store time must stay bounded, whatever a registry record holds.
MAX_PARSE_CHARS = 60_000
_LINKED = "__linked__"  # marks a stored parse head whose criteria live in criterion_bodies


def match_record(study: Study) -> Study:
    """Only what matching and ranking read: registry fields for the condition and age checks,
    phases, status, intervention names and classes, and the recruiting sites with coordinates
    (the nearest-site search skips every other site). The full model is read only for the
    trials shown."""
    e = study.eligibility
    return Study(
        nct_id=study.nct_id,
        brief_title=study.brief_title,
        official_title=study.official_title,
        overall_status=study.overall_status,
        phases=study.phases,
        conditions=study.conditions,
        interventions=[
            i.model_copy(update={"description": None, "arm_group_labels": [], "extra": {}})
            for i in study.interventions
        ],
        eligibility=e.model_copy(update={"criteria_text": ""}),
        locations=[
            loc.model_copy(update={"contacts": [], "extra": {}})
            for loc in study.locations
            if loc.status == "RECRUITING" and loc.lat is not None and loc.lon is not None
        ],
        is_sample=study.is_sample,
    )


def _match_blob(study: Study) -> bytes:
    return zlib.compress(match_record(study).model_dump_json(exclude_defaults=True).encode(), 3)


def split_parse(parsed: dict[str, Any]) -> tuple[str, list[tuple[bytes, bytes, str]]]:
    """A stored parse as its head (everything but the criteria) and, per criterion in order,
    (digest, compressed body without its id, id). Equal criteria share one stored body."""
    items = parsed.get("criteria")
    if not isinstance(items, list) or not all(
        isinstance(c, dict) and isinstance(c.get("id"), str) for c in items
    ):
        return json.dumps(parsed, default=str), []
    head = {k: v for k, v in parsed.items() if k != "criteria"}
    head[_LINKED] = True
    bodies = []
    for c in items:
        text = json.dumps(
            {k: v for k, v in c.items() if k != "id"},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            default=str,
        ).encode()
        digest = hashlib.blake2b(text, digest_size=16).digest()
        bodies.append((digest, zlib.compress(text, 6), str(c["id"])))
    return json.dumps(head, default=str), bodies


def join_parse(head: dict[str, Any], links: Sequence[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """``split_parse`` undone: ``links`` are (criterion id, body) in order."""
    out = dict(head)
    if out.pop(_LINKED, False):
        out["criteria"] = [{**body, "id": cid} for cid, body in links]
    return out


@dataclass(frozen=True)
class MatchRow:
    """One candidate study as the match service reads it."""

    nct_id: str
    record: bytes  # zlib JSON of ``match_record(study)``
    head: dict[str, Any] | None  # the stored parse without its criteria, None when not parsed
    links: tuple[tuple[bytes, int, str], ...]  # (body digest, body id, criterion id), in order


def _bars(values: Iterable[str]) -> str:
    """``|a|b|`` so that ``LIKE '%|a|%'`` matches whole values."""
    items = [v for v in values if v]
    return "|" + "|".join(items) + "|" if items else ""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _unit(lat: float, lon: float) -> tuple[float, float, float]:
    """The point on the unit sphere: great-circle tests become dot products in plain SQL."""
    phi, lam = math.radians(lat), math.radians(lon)
    return math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi)


# Words that carry no meaning in a trial registry; kept only inside the exact-phrase clause.
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "in",
        "into",
        "is",
        "it",
        "of",
        "on",
        "or",
        "not",
        "no",
        "the",
        "to",
        "with",
        "without",
        "after",
        "before",
        "during",
        "trial",
        "trials",
        "study",
        "studies",
        "patient",
        "patients",
        "people",
    ]
)


def fts_queries(text: str) -> tuple[str, str] | None:
    """Two safe FTS5 expressions for free text: (strict, loose).

    strict: the exact phrase, OR every meaningful word (AND; a word that names a drug also
    matches the drug's vocabulary id, so "Talvey" finds a study listing JNJ-64407564).
    loose: any meaningful word, or any drug the text names. Search runs strict first and
    tops up with loose. User text never reaches FTS5
    syntax (quotes, colons and operators are stripped), so no query can raise an error.
    """
    tokens = [t.lower() for t in _TOKEN.findall(text)]
    if not tokens:
        return None
    words = [t for t in dict.fromkeys(tokens) if t not in _STOPWORDS] or list(dict.fromkeys(tokens))
    drugs: list[str] = []
    for drug in vocabulary().find_in_text(text):  # multi-word names and codes, for loose
        drug_tokens = [t.lower() for t in _TOKEN.findall(drug.id)]
        if drug_tokens:
            drugs.append('"' + " ".join(drug_tokens) + '"')
    voc = vocabulary()

    def term(word: str) -> str:
        drug = voc.resolve(word)
        if drug is None:
            return f'"{word}"'
        alias = " ".join(t.lower() for t in _TOKEN.findall(drug.id))
        return f'"{word}"' if alias == word else f'("{word}" OR "{alias}")'

    strict = []
    if len(tokens) > 1:
        strict.append('"' + " ".join(tokens) + '"')
    strict.append("(" + " AND ".join(term(w) for w in words) + ")")
    loose_words = [w for w in words if len(w) > 1] or words
    loose = [f'"{w}"' for w in loose_words] + drugs
    return " OR ".join(dict.fromkeys(strict)), " OR ".join(dict.fromkeys(loose))


def fts_query(text: str) -> str | None:
    """The loose expression alone (every meaningful word, OR'd); see ``fts_queries``."""
    both = fts_queries(text)
    return None if both is None else both[1]


@dataclass(frozen=True)
class _Prepared:
    nct_id: str
    brief_title: str
    overall_status: str | None
    phases: str
    drug_ids: str
    drug_classes: str
    targets: str
    last_update: str | None
    is_sample: int
    raw: bytes
    fts_digest: bytes
    plasma_cell: int
    match_rec: bytes
    criteria_head: str | None
    bodies: list[tuple[bytes, bytes, str]]
    criteria_error: str | None
    fts: tuple[str, str, str, str, str]
    sites: list[
        tuple[str | None, float | None, float | None, float | None, float | None, float | None]
    ]


class SqliteTrialStore:
    """``TrialStore`` on one SQLite file. ``path=":memory:"`` gives a private in-memory store."""

    def __init__(self, path: Path | str, *, parse_criteria: CriteriaParser | None = None) -> None:
        self.path = str(path)
        self.parse_criteria = parse_criteria
        self._fts_stale = False
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._conn.execute(
                "PRAGMA journal_mode = WAL" if self.path != ":memory:" else "SELECT 1"
            )
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute("PRAGMA busy_timeout = 10000")
            kept = self._older_schema_rows()
            self._conn.executescript(_SCHEMA)
            self._upgrade_v4()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open trial database: {exc}", location=self.path) from exc
        self._check_schema()
        if kept is not None:
            self._rebuild(kept)

    # ------------------------------------------------------------------ plumbing
    def _older_schema_rows(self) -> list[tuple[bytes, int, str]] | None:
        """A store of schema 3 (before the match records) is upgraded in place: its raw
        records are kept, its tables dropped and rebuilt by ``_rebuild``. None otherwise."""
        conn = self._conn
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone() is None:
            return None
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None or row[0] != "3":
            return None
        rows = conn.execute("SELECT raw, is_sample, source FROM studies").fetchall()
        conn.executescript(
            "BEGIN; DROP TABLE IF EXISTS studies_fts; DROP TABLE IF EXISTS studies; "
            "DROP TABLE IF EXISTS sites; DROP TABLE IF EXISTS staging; "
            "UPDATE runs SET status = 'abandoned' WHERE status = 'open'; "
            "DELETE FROM meta WHERE key = 'schema'; COMMIT;"
        )
        return [(bytes(raw), int(is_sample), str(source)) for raw, is_sample, source in rows]

    def _upgrade_v4(self) -> None:
        """Schema 4 to 5 in place: the typed copy of each study goes (it is rebuilt from the raw
        record when needed), each row keeps instead the digest of the text it was indexed with
        (taken from that copy, so existing search rows stay deletable), and only candidates keep
        a match record. The file is then compacted."""
        conn = self._conn
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None or row[0] != "4":
            return
        with self._tx():
            conn.execute("ALTER TABLE studies ADD COLUMN fts_digest BLOB")
            for study_id, blob in conn.execute("SELECT id, model FROM studies").fetchall():
                study = Study.model_validate_json(zlib.decompress(blob))
                conn.execute(
                    "UPDATE studies SET fts_digest = ? WHERE id = ?",
                    (_digest(_fts_text(study)), study_id),
                )
            conn.execute("ALTER TABLE studies DROP COLUMN model")
            conn.execute("UPDATE studies SET match_rec = x'' WHERE plasma_cell = 0")
            conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))
            self._set_meta(conn, "version", uuid.uuid4().hex)
        conn.execute("VACUUM")

    def _rebuild(self, kept: list[tuple[bytes, int, str]]) -> None:
        stamp = _now()
        with self._tx() as conn:
            for raw_blob, is_sample, source in kept:
                raw = _unpack(raw_blob)
                study = Study.from_v2(raw, is_sample=bool(is_sample))
                self._write(conn, self._prepare(StudyRecord(study=study, raw=raw)), source, stamp)
            self._finish_write(conn)

    def _check_schema(self) -> None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None:
            self._conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
            )
        elif int(row[0]) != SCHEMA_VERSION:
            raise StoreError(
                f"database schema {row[0]} is not the supported {SCHEMA_VERSION}; delete the file "
                "and run `myelonav trials sync` again",
                location=self.path,
            )

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed on success, rolled back on any exception."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            self._fts_stale = False
            raise
        else:
            conn.execute("COMMIT")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SqliteTrialStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # ------------------------------------------------------------------ reading
    def get(self, nct_id: str) -> Study | None:
        row = self._conn.execute(
            "SELECT raw, is_sample FROM studies WHERE nct_id = ?", (nct_id.upper(),)
        ).fetchone()
        if row is None:
            return None
        return Study.from_v2(_unpack(row[0]), is_sample=bool(row[1]))

    def get_raw(self, nct_id: str) -> dict[str, Any] | None:
        row = self._conn.execute(
            "SELECT raw FROM studies WHERE nct_id = ?", (nct_id.upper(),)
        ).fetchone()
        return None if row is None else dict(_unpack(row[0]))

    def parsed_criteria(self, nct_id: str) -> dict[str, Any] | None:
        row = self._conn.execute(
            "SELECT id, criteria_head FROM studies WHERE nct_id = ?", (nct_id.upper(),)
        ).fetchone()
        if row is None or row[1] is None:
            return None
        links = self._conn.execute(
            "SELECT sc.cid, b.body FROM study_criteria sc JOIN criterion_bodies b "
            "ON b.id = sc.body_id WHERE sc.study_id = ? ORDER BY sc.pos",
            (row[0],),
        ).fetchall()
        return join_parse(json.loads(row[1]), [(cid, _unpack(body)) for cid, body in links])

    def version(self) -> str:
        """Changes with every write: a cache of anything read from the store keys on it."""
        return self._meta("version") or ""

    def match_rows(self, *, include_closed: bool = False) -> list[MatchRow]:
        """The studies matching may judge (plasma-cell studies; open ones unless
        ``include_closed``), found by the indexed flag: no other row is read."""
        where = "plasma_cell = 1"
        args: list[Any] = []
        if not include_closed:
            where += f" AND overall_status IN ({','.join('?' * len(OPEN_STATUSES))})"
            args = sorted(OPEN_STATUSES)
        rows = self._conn.execute(
            f"SELECT id, nct_id, match_rec, criteria_head FROM studies WHERE {where} "
            "ORDER BY nct_id",
            args,
        ).fetchall()
        links: dict[int, list[tuple[bytes, int, str]]] = {}
        for study_id, digest, body_id, cid in self._conn.execute(
            "SELECT sc.study_id, b.digest, sc.body_id, sc.cid FROM study_criteria sc "
            "JOIN criterion_bodies b ON b.id = sc.body_id "
            f"WHERE sc.study_id IN (SELECT id FROM studies WHERE {where}) "
            "ORDER BY sc.study_id, sc.pos",
            args,
        ):
            links.setdefault(study_id, []).append((digest, body_id, cid))
        return [
            MatchRow(
                nct_id=nct_id,
                record=blob,
                head=None if head is None else dict(json.loads(head)),
                links=tuple(links.get(study_id, ())),
            )
            for study_id, nct_id, blob, head in rows
        ]

    def criterion_bodies(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """Stored criterion bodies (a parsed criterion without its id) by body id."""
        wanted = sorted(set(ids))
        out: dict[int, dict[str, Any]] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for body_id, body in self._conn.execute(
                f"SELECT id, body FROM criterion_bodies WHERE id IN ({marks})", chunk
            ):
                out[int(body_id)] = dict(_unpack(body))
        return out

    def get_models(self, nct_ids: Iterable[str]) -> dict[str, Study]:
        """Full typed models (``extra`` left empty, as ``iter_studies``) for these ids."""
        wanted = sorted({n.upper() for n in nct_ids})
        out: dict[str, Study] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for nct_id, blob, is_sample in self._conn.execute(
                f"SELECT nct_id, raw, is_sample FROM studies WHERE nct_id IN ({marks})", chunk
            ):
                out[nct_id] = _from_raw(blob, is_sample)
        return out

    def iter_studies(self, *, include_samples: bool = True) -> Iterator[Study]:
        """Every study by NCT id, streamed (``extra`` is left empty; ``get`` has it all)."""
        sql = "SELECT raw, is_sample FROM studies"
        if not include_samples:
            sql += " WHERE is_sample = 0"
        for blob, is_sample in self._conn.execute(sql + " ORDER BY nct_id"):
            yield _from_raw(blob, is_sample)

    def count(self, *, samples: bool | None = None) -> int:
        if samples is None:
            row = self._conn.execute("SELECT count(*) FROM studies").fetchone()
        else:
            row = self._conn.execute(
                "SELECT count(*) FROM studies WHERE is_sample = ?", (int(samples),)
            ).fetchone()
        return int(row[0])

    def stats(self) -> StoreStats:
        c = self._conn
        stats = StoreStats(
            studies=self.count(),
            samples=self.count(samples=True),
            sites=int(c.execute("SELECT count(*) FROM sites").fetchone()[0]),
            criteria_parsed=int(
                c.execute(
                    "SELECT count(*) FROM studies WHERE criteria_head IS NOT NULL"
                ).fetchone()[0]
            ),
            criteria_failed=int(
                c.execute(
                    "SELECT count(*) FROM studies WHERE criteria_error IS NOT NULL"
                ).fetchone()[0]
            ),
        )
        for key, value in c.execute("SELECT key, value FROM meta WHERE key LIKE 'sync:%'"):
            stats.last_sync[key.removeprefix("sync:")] = value
        return stats

    def meta(self, key: str) -> str | None:
        return self._meta(key)

    # ------------------------------------------------------------------ search
    def search(self, query: SearchQuery) -> list[SearchHit]:
        """Studies matching ``query``: best text matches first (or nearest, or newest).

        Text is matched strictly first (all words); when that gives fewer than ``limit``
        studies, studies matching any word follow, ranked below every strict match.
        """
        matches = fts_queries(query.text)
        if matches is None:
            return self._search(query, None)
        strict, loose = matches
        hits = self._search(query, strict)
        if len(hits) >= query.limit or loose == strict:
            return hits
        seen = {h.study.nct_id for h in hits}
        floor = min((h.score for h in hits), default=0.0)
        more = [h for h in self._search(query, loose) if h.study.nct_id not in seen]
        # a loose hit must never outrank a strict one
        shift = (max(h.score for h in more) - floor + 1.0) if more and hits else 0.0
        for h in more[: query.limit - len(hits)]:
            hits.append(SearchHit(study=h.study, score=h.score - shift, nearest=h.nearest))
        return hits

    def _search(self, query: SearchQuery, match: str | None) -> list[SearchHit]:
        params: dict[str, Any] = {}
        ctes: list[str] = []
        joins: list[str] = []
        where: list[str] = []
        score_sql = "0.0"
        order = "s.last_update DESC, s.nct_id"

        if match is not None:
            weights = ", ".join(str(w) for w in FIELD_WEIGHTS)
            ctes.append(
                f"hits AS (SELECT rowid AS id, -bm25(studies_fts, {weights}) AS score "
                "FROM studies_fts WHERE studies_fts MATCH :match)"
            )
            joins.append("JOIN hits ON hits.id = s.id")
            params["match"] = match
            score_sql = "hits.score"
            order = "hits.score DESC, s.nct_id"

        if query.within_miles is not None:
            if query.near is None:
                raise StoreError("a distance limit needs a place (--near ZIP or --lat/--lon)")
            min_lat, max_lat, min_lon, max_lon = bounding_box(query.near, query.within_miles)
            # chord test: within d miles  <=>  dot(site, origin) >= cos(d / R)
            ctes.append(
                "near AS (SELECT study_id AS id, max(x * :ox + y * :oy + z * :oz) AS dot "
                "FROM sites WHERE status = 'RECRUITING' "
                "AND lat BETWEEN :min_lat AND :max_lat AND lon BETWEEN :min_lon AND :max_lon "
                "AND x * :ox + y * :oy + z * :oz >= :min_dot GROUP BY study_id)"
            )
            joins.append("JOIN near ON near.id = s.id")
            ox, oy, oz = _unit(query.near.lat, query.near.lon)
            angle = min(math.pi, query.within_miles / EARTH_RADIUS_MILES)
            params.update(
                ox=ox,
                oy=oy,
                oz=oz,
                min_lat=min_lat,
                max_lat=max_lat,
                min_lon=min_lon,
                max_lon=max_lon,
                # a hair of slack for rounding; the exact distance is computed for each hit
                min_dot=math.cos(angle) - 1e-12,
            )
            if match is None:
                order = "near.dot DESC, s.nct_id"

        def any_of(column: str, values: Sequence[str], name: str, *, exact: bool = False) -> None:
            clauses = []
            for i, value in enumerate(values):
                key = f"{name}{i}"
                if exact:
                    clauses.append(f"s.{column} = :{key}")
                    params[key] = value
                else:
                    clauses.append(f"s.{column} LIKE :{key}")
                    params[key] = f"%|{value}|%"
            if clauses:
                where.append("(" + " OR ".join(clauses) + ")")

        any_of("overall_status", [v.upper() for v in query.statuses], "st", exact=True)
        any_of("phases", [v.upper() for v in query.phases], "ph")
        any_of("drug_classes", list(query.drug_classes), "dc")
        any_of("targets", list(query.targets), "tg")
        if not query.include_samples:
            where.append("s.is_sample = 0")

        sql = (
            ("WITH " + ", ".join(ctes) + " " if ctes else "")
            + f"SELECT s.id, {score_sql} FROM studies s "
            + " ".join(joins)
            + (" WHERE " + " AND ".join(where) if where else "")
            + f" ORDER BY {order} LIMIT :limit"
        )
        params["limit"] = max(1, query.limit)
        # targets are matched case-sensitively as stored (BCMA, GPRC5D, FcRH5)
        self._conn.execute("PRAGMA case_sensitive_like = ON")
        try:
            ranked = self._conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            raise StoreError(f"search failed: {exc}", location=self.path) from exc
        finally:
            self._conn.execute("PRAGMA case_sensitive_like = OFF")
        if not ranked:
            return []
        # the blobs are read only for the rows that made the cut, not for every candidate
        marks = ",".join("?" * len(ranked))
        blobs = {
            study_id: (blob, is_sample)
            for study_id, blob, is_sample in self._conn.execute(
                f"SELECT id, raw, is_sample FROM studies WHERE id IN ({marks})",
                [r[0] for r in ranked],
            )
        }
        hits = []
        for study_id, score in ranked:
            study = _from_raw(*blobs[study_id])
            nearest = nearest_site(study, query.near) if query.near is not None else None
            hits.append(SearchHit(study=study, score=float(score), nearest=nearest))
        return hits

    # ------------------------------------------------------------------ writing
    def parse(self, study: Study) -> tuple[dict[str, Any] | None, str | None]:
        """The stored parse of a study, or why there is none. Only plasma-cell studies (the
        only ones matching ever judges) are parsed, and only texts of bounded length."""
        from myelonav.trials.patient_match import is_candidate

        if self.parse_criteria is None or not is_candidate(study, include_closed=True):
            return None, None
        size = len(study.eligibility.criteria_text)
        if size > MAX_PARSE_CHARS:
            return None, f"criteria text of {size:,} characters is parsed when matched"
        try:
            return self.parse_criteria(study), None
        except Exception as exc:  # a parser bug must not abort a sync; it is recorded
            return None, f"{type(exc).__name__}: {exc}"[:500]

    def _prepare(
        self,
        record: StudyRecord,
        parsed: tuple[dict[str, Any] | None, str | None] | None = None,
    ) -> _Prepared:
        from myelonav.trials.patient_match import is_candidate

        study = record.study
        head, error = self.parse(study) if parsed is None else parsed
        criteria_head, bodies = split_parse(head) if head is not None else (None, [])
        fts = _fts_text(study)
        plasma_cell = is_candidate(study, include_closed=True)
        return _Prepared(
            nct_id=study.nct_id,
            brief_title=study.brief_title,
            overall_status=study.overall_status,
            phases=_bars(study.phases),
            drug_ids=_bars(study.drug_ids),
            drug_classes=_bars(study.drug_classes),
            targets=_bars(study.targets),
            last_update=study.last_update_date.isoformat() if study.last_update_date else None,
            is_sample=int(study.is_sample),
            raw=_pack(record.raw),
            fts_digest=_digest(fts),
            plasma_cell=int(plasma_cell),
            # only candidates are ever read for matching (by the indexed flag)
            match_rec=_match_blob(study) if plasma_cell else b"",
            criteria_head=criteria_head,
            bodies=bodies,
            criteria_error=error,
            fts=fts,
            # only sites a distance search can find (recruiting, with coordinates): the
            # registry's closed and unlocated sites are most rows and never queried here
            sites=[
                (loc.status, loc.lat, loc.lon, *_unit(loc.lat, loc.lon))
                for loc in study.locations
                if loc.status == "RECRUITING" and loc.lat is not None and loc.lon is not None
            ],
        )

    def _write(self, conn: sqlite3.Connection, p: _Prepared, source: str, stamp: str) -> None:
        row = conn.execute("SELECT id FROM studies WHERE nct_id = ?", (p.nct_id,)).fetchone()
        values = (
            p.brief_title,
            p.overall_status,
            p.phases,
            p.drug_ids,
            p.drug_classes,
            p.targets,
            p.last_update,
            p.is_sample,
            source,
            p.raw,
            p.fts_digest,
            p.plasma_cell,
            p.match_rec,
            p.criteria_head,
            p.criteria_error,
            stamp,
        )
        if row is None:
            cur = conn.execute(
                "INSERT INTO studies (brief_title, overall_status, phases, drug_ids, drug_classes, "
                "targets, last_update, is_sample, source, raw, fts_digest, plasma_cell, match_rec, "
                "criteria_head, criteria_error, stored_at, nct_id) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (*values, p.nct_id),
            )
            study_id = int(cur.lastrowid or 0)
        else:
            study_id = int(row[0])
            self._fts_delete(conn, [study_id])
            conn.execute("DELETE FROM sites WHERE study_id = ?", (study_id,))
            conn.execute(
                "UPDATE studies SET brief_title=?, overall_status=?, phases=?, drug_ids=?, "
                "drug_classes=?, targets=?, last_update=?, is_sample=?, source=?, raw=?, "
                "fts_digest=?, plasma_cell=?, match_rec=?, criteria_head=?, criteria_error=?, "
                "stored_at=? WHERE id = ?",
                (*values, study_id),
            )
        self._write_criteria(conn, study_id, p.bodies)
        conn.execute(
            "INSERT INTO studies_fts (rowid, title, conditions, interventions, summary, criteria) "
            "VALUES (?,?,?,?,?,?)",
            (study_id, *p.fts),
        )
        if p.sites:
            conn.executemany(
                "INSERT INTO sites (study_id, status, lat, lon, x, y, z) VALUES (?,?,?,?,?,?,?)",
                [(study_id, *site) for site in p.sites],
            )

    def _write_criteria(
        self, conn: sqlite3.Connection, study_id: int, bodies: Sequence[tuple[bytes, bytes, str]]
    ) -> None:
        conn.execute("DELETE FROM study_criteria WHERE study_id = ?", (study_id,))
        if not bodies:
            return
        conn.executemany(
            "INSERT INTO criterion_bodies (digest, body) VALUES (?, ?) "
            "ON CONFLICT (digest) DO NOTHING",
            [(digest, body) for digest, body, _ in bodies],
        )
        links = []
        for pos, (digest, _, cid) in enumerate(bodies):
            body_id = conn.execute(
                "SELECT id FROM criterion_bodies WHERE digest = ?", (digest,)
            ).fetchone()[0]
            links.append((study_id, pos, int(body_id), cid))
        conn.executemany(
            "INSERT INTO study_criteria (study_id, pos, body_id, cid) VALUES (?,?,?,?)", links
        )

    def _finish_write(self, conn: sqlite3.Connection) -> None:
        """Drop criterion bodies no study uses any more; a new store version for caches."""
        if self._fts_stale:
            self._fts_rebuild(conn)
        conn.execute(
            "DELETE FROM criterion_bodies WHERE id NOT IN (SELECT body_id FROM study_criteria)"
        )
        self._set_meta(conn, "version", uuid.uuid4().hex)

    def _fts_delete(self, conn: sqlite3.Connection, ids: Sequence[int]) -> None:
        # a contentless FTS5 row is removed by replaying the exact text it was indexed with,
        # rebuilt from the raw record; if the rebuild is not that text (the registry reader
        # changed since), the whole index is rebuilt at the end of the transaction instead
        marks = ",".join("?" * len(ids))
        rows = conn.execute(
            f"SELECT id, raw, is_sample, fts_digest FROM studies WHERE id IN ({marks})", list(ids)
        )
        for study_id, blob, is_sample, digest in rows.fetchall():
            fts = _fts_text(_from_raw(blob, is_sample))
            if digest is not None and _digest(fts) != bytes(digest):
                self._fts_stale = True
                continue
            conn.execute(
                "INSERT INTO studies_fts (studies_fts, rowid, title, conditions, interventions, "
                "summary, criteria) VALUES ('delete', ?, ?, ?, ?, ?, ?)",
                (study_id, *fts),
            )

    def _fts_rebuild(self, conn: sqlite3.Connection) -> None:
        """Index every study again from its raw record (after a replay did not match)."""
        conn.execute("INSERT INTO studies_fts (studies_fts) VALUES ('delete-all')")
        rows = conn.execute("SELECT id, raw, is_sample FROM studies").fetchall()
        for study_id, blob, is_sample in rows:
            fts = _fts_text(_from_raw(blob, is_sample))
            conn.execute(
                "INSERT INTO studies_fts (rowid, title, conditions, interventions, summary, "
                "criteria) VALUES (?,?,?,?,?,?)",
                (study_id, *fts),
            )
            conn.execute("UPDATE studies SET fts_digest = ? WHERE id = ?", (_digest(fts), study_id))
        self._fts_stale = False

    def _delete_where(self, conn: sqlite3.Connection, condition: str, args: Sequence[Any]) -> int:
        ids = [r[0] for r in conn.execute(f"SELECT id FROM studies WHERE {condition}", args)]
        for chunk_start in range(0, len(ids), 500):
            chunk = ids[chunk_start : chunk_start + 500]
            marks = ",".join("?" * len(chunk))
            self._fts_delete(conn, chunk)
            conn.execute(f"DELETE FROM sites WHERE study_id IN ({marks})", chunk)
            conn.execute(f"DELETE FROM study_criteria WHERE study_id IN ({marks})", chunk)
            conn.execute(f"DELETE FROM studies WHERE id IN ({marks})", chunk)
        return len(ids)

    def import_studies(self, records: Iterable[StudyRecord], *, source: str) -> ApplyReport:
        """Write all records in one transaction; real data replaces the bundled samples."""
        prepared = [self._prepare(r) for r in records]
        stamp = _now()
        removed = 0
        try:
            with self._tx() as conn:
                for p in prepared:
                    self._write(conn, p, source, stamp)
                if any(not p.is_sample for p in prepared):
                    removed = self._delete_where(conn, "source = ?", (SAMPLE_SOURCE,))
                self._finish_write(conn)
                self._set_meta(conn, "populated", stamp)
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"import failed, nothing was written: {exc}", location=self.path
            ) from exc
        return ApplyReport(
            written=len(prepared),
            removed=removed,
            criteria_failed=sum(p.criteria_error is not None for p in prepared),
        )

    def reparse_criteria(self) -> int:
        """Run ``parse_criteria`` again over every stored study (after a parser upgrade)."""
        if self.parse_criteria is None:
            return 0
        rows = self._conn.execute(
            "SELECT id, raw, is_sample FROM studies WHERE plasma_cell = 1"
        ).fetchall()
        updates: list[tuple[int, str | None, str | None, list[tuple[bytes, bytes, str]]]] = []
        for study_id, blob, is_sample in rows:  # parsed before the write transaction
            head, error = self.parse(_from_raw(blob, is_sample))
            criteria_head, bodies = split_parse(head) if head is not None else (None, [])
            updates.append((int(study_id), criteria_head, error, bodies))
        with self._tx() as conn:
            for study_id, criteria_head, error, bodies in updates:
                conn.execute(
                    "UPDATE studies SET criteria_head = ?, criteria_error = ? WHERE id = ?",
                    (criteria_head, error, study_id),
                )
                self._write_criteria(conn, study_id, bodies)
            self._finish_write(conn)
        return len(updates)

    def is_populated(self) -> bool:
        """True once anything (samples, an import or a sync) has been written."""
        return self._meta("populated") is not None

    # ------------------------------------------------------------------ sync runs
    def sync_cursor(self, key: str) -> dt.date | None:
        value = self._meta(f"cursor:{key}")
        return dt.date.fromisoformat(value) if value else None

    def _run(self, run_id: int, *, resumed: bool = False) -> RunState:
        row = self._conn.execute(
            "SELECT id, key, mode, params, page_token, pages, studies, fetched_all, started_at "
            "FROM runs WHERE id = ?",
            (run_id,),
        ).fetchone()
        if row is None:
            raise StoreError(f"no sync run {run_id}", location=self.path)
        return RunState(
            id=int(row[0]),
            key=row[1],
            mode=row[2],
            params=json.loads(row[3]),
            page_token=row[4],
            pages=int(row[5]),
            studies=int(row[6]),
            fetched_all=bool(row[7]),
            started_at=dt.datetime.fromisoformat(row[8]),
            resumed=resumed,
        )

    def open_run(self, key: str, mode: str, params: dict[str, str]) -> RunState:
        """Resume the unfinished run for this key and query, or start a new one."""
        params_json = json.dumps(params, sort_keys=True)
        with self._tx() as conn:
            row = conn.execute(
                "SELECT id, params FROM runs WHERE key = ? AND status = 'open' "
                "ORDER BY id DESC LIMIT 1",
                (key,),
            ).fetchone()
            resumed = row is not None and row[1] == params_json
            if resumed:
                run_id = int(row[0])
            else:
                if row is not None:  # a different query: the old partial run cannot be resumed
                    conn.execute("UPDATE runs SET status = 'abandoned' WHERE id = ?", (row[0],))
                    conn.execute("DELETE FROM staging WHERE run_id = ?", (row[0],))
                cur = conn.execute(
                    "INSERT INTO runs (key, mode, params, started_at, status) "
                    "VALUES (?, ?, ?, ?, 'open')",
                    (key, mode, params_json, _now()),
                )
                run_id = int(cur.lastrowid or 0)
        return self._run(run_id, resumed=resumed)

    def unfinished_run(self, key: str) -> tuple[int, int] | None:
        """(pages, studies) fetched by the interrupted run for this key, if one is open."""
        row = self._conn.execute(
            "SELECT pages, studies FROM runs WHERE key = ? AND status = 'open' "
            "ORDER BY id DESC LIMIT 1",
            (key,),
        ).fetchone()
        return None if row is None else (int(row[0]), int(row[1]))

    def restart_run(self, run_id: int) -> RunState:
        """Forget a run's progress (e.g. its page token expired) but keep the run."""
        with self._tx() as conn:
            conn.execute("DELETE FROM staging WHERE run_id = ?", (run_id,))
            conn.execute(
                "UPDATE runs SET page_token = NULL, pages = 0, studies = 0, fetched_all = 0 "
                "WHERE id = ?",
                (run_id,),
            )
        return self._run(run_id)

    def stage_page(
        self, run_id: int, records: Sequence[StudyRecord], next_token: str | None
    ) -> RunState:
        """Save one fetched page and the token of the next, in one transaction."""
        rows = [(run_id, r.study.nct_id, _pack(r.raw), _model_blob(r.study)) for r in records]
        with self._tx() as conn:
            conn.executemany(
                "INSERT INTO staging (run_id, nct_id, raw, model) VALUES (?,?,?,?) "
                "ON CONFLICT (run_id, nct_id) DO UPDATE SET raw = excluded.raw, "
                "model = excluded.model, parsed = NULL",
                rows,
            )
            conn.execute(
                "UPDATE runs SET page_token = ?, pages = pages + 1, "
                "studies = (SELECT count(*) FROM staging WHERE run_id = ?), fetched_all = ? "
                "WHERE id = ?",
                (next_token, run_id, int(next_token is None), run_id),
            )
        return self._run(run_id)

    def commit_run(
        self, run_id: int, *, cursor: dt.date, data_timestamp: str | None
    ) -> ApplyReport:
        """Swap the staged studies into the live snapshot, all in one transaction."""
        run = self._run(run_id)
        if not run.fetched_all:
            raise StoreError(f"sync run {run_id} has not fetched every page", location=self.path)
        source = f"sync:{run.key}"
        self._parse_staged(run_id)
        stamp = _now()
        written = criteria_failed = 0
        try:
            with self._tx() as conn:
                staged = conn.execute(
                    "SELECT raw, model, parsed FROM staging WHERE run_id = ?", (run_id,)
                )
                for raw_blob, model_blob, parsed_blob in staged:
                    study = Study.model_validate_json(zlib.decompress(model_blob))
                    raw = _unpack(raw_blob)
                    stored = _unpack(parsed_blob) if parsed_blob is not None else {}
                    p = self._prepare(
                        StudyRecord(study=study, raw=raw),
                        (stored.get("parse"), stored.get("error")),
                    )
                    criteria_failed += p.criteria_error is not None
                    self._write(conn, p, source, stamp)
                    written += 1
                removed = self._delete_where(conn, "source = ?", (SAMPLE_SOURCE,))
                if run.mode == "full":
                    removed += self._delete_where(
                        conn,
                        "source = ? AND nct_id NOT IN "
                        "(SELECT nct_id FROM staging WHERE run_id = ?)",
                        (source, run_id),
                    )
                conn.execute("DELETE FROM staging WHERE run_id = ?", (run_id,))
                conn.execute(
                    "UPDATE runs SET status = 'done', finished_at = ? WHERE id = ?", (stamp, run_id)
                )
                self._finish_write(conn)
                self._set_meta(conn, f"cursor:{run.key}", cursor.isoformat())
                self._set_meta(
                    conn,
                    f"sync:{run.key}",
                    json.dumps(
                        {
                            "finished_at": stamp,
                            "mode": run.mode,
                            "studies": written,
                            "data_timestamp": data_timestamp,
                        }
                    ),
                )
                self._set_meta(conn, "populated", stamp)
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"sync could not be applied; the previous snapshot is unchanged: {exc}",
                location=self.path,
            ) from exc
        return ApplyReport(written=written, removed=removed, criteria_failed=criteria_failed)

    def _parse_staged(self, run_id: int, batch: int = 200) -> None:
        """Parse every staged study not yet parsed, in small transactions of their own, so the
        commit's write transaction never runs the parser (a sync interrupted here resumes
        where it stopped)."""
        while True:
            rows = self._conn.execute(
                "SELECT nct_id, model FROM staging WHERE run_id = ? AND parsed IS NULL LIMIT ?",
                (run_id, batch),
            ).fetchall()
            if not rows:
                return
            updates = []
            for nct_id, model_blob in rows:
                head, error = self.parse(Study.model_validate_json(zlib.decompress(model_blob)))
                updates.append((_pack({"parse": head, "error": error}), run_id, nct_id))
            with self._tx() as conn:
                conn.executemany(
                    "UPDATE staging SET parsed = ? WHERE run_id = ? AND nct_id = ?", updates
                )

    def abandon_run(self, run_id: int) -> None:
        with self._tx() as conn:
            conn.execute("DELETE FROM staging WHERE run_id = ?", (run_id,))
            conn.execute("UPDATE runs SET status = 'abandoned' WHERE id = ?", (run_id,))

    def size_bytes(self) -> int:
        """Bytes on disk (database plus WAL), after a checkpoint."""
        if self.path == ":memory:":
            page_count = self._conn.execute("PRAGMA page_count").fetchone()[0]
            page_size = self._conn.execute("PRAGMA page_size").fetchone()[0]
            return int(page_count) * int(page_size)
        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        total = 0
        for suffix in ("", "-wal"):
            p = Path(self.path + suffix)
            if p.exists():
                total += p.stat().st_size
        return total


__all__ = [
    "FIELD_WEIGHTS",
    "MAX_PARSE_CHARS",
    "SAMPLE_SOURCE",
    "MatchRow",
    "SqliteTrialStore",
    "fts_query",
    "join_parse",
    "match_record",
    "split_parse",
]
