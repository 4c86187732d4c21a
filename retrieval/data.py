"""Loading interaction data and item catalogs, with errors that name file, row and column.

What is an error and what is a warning (nothing is dropped silently):

- error: a missing file, a missing column, an empty id, an unparsable rating or timestamp, a row
  with the wrong number of fields, a duplicate item id in the catalog (`data.duplicate_items=
  "warn"` keeps each id's first row instead, with a counted warning);
- warning with a count (the rows are dropped): an interaction or tag whose item is not in the
  catalog. Set `data.unknown_items="error"` to make that an error too.

Rows are counted from 1 without the header or blank lines (which are skipped); for text files
the line number is given as well.

Text files are decoded in Python (`data.encoding`, any codec Python knows), so polars only ever
sees UTF-8. Without quoting every row's field count is checked; with quoting polars pads short
rows with nulls.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from retrieval.config import (
    MOVIE_DOMAIN,
    DataConfig,
    DomainConfig,
    FeedbackConfig,
    InteractionColumns,
    ItemColumns,
)
from retrieval.feedback import resolve_feedback

log = logging.getLogger(__name__)

MAX_REPORTED_ROWS = 5
SUFFIX_SEPARATORS = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
# Tried in this order on files of any other suffix (.dat, .txt): `::` and tab first, since a
# comma also occurs inside titles of files separated by them.
SNIFFED_SEPARATORS = ("::", "\t", ",")
SNIFFED_LINES = 5
# One of these, absent from the file, stands in for a separator longer than polars' one byte.
STAND_IN_SEPARATORS = [chr(code) for code in range(1, 32) if chr(code) not in "\t\n\r"]


class DataError(ValueError):
    """A data file that cannot be used as it is; the message says where and why."""


@dataclass
class Dataset:
    """Validated data: `interactions` (user_id, item_id, rating, timestamp) and `items`
    (item_id, title, genres, tags, description), ids as strings.

    `rating` is the interaction's value whatever `feedback` says it is (a rating, a count, 1).
    Without a timestamp column, `timestamp` is the file order and `has_timestamps` is False.
    `feedback` and `domain` are resolved: nothing is left to `auto` or None.
    """

    interactions: pl.DataFrame
    items: pl.DataFrame
    data_hash: str
    files: list[str]
    feedback: FeedbackConfig
    domain: DomainConfig
    has_timestamps: bool = True
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Table:
    """`line_numbers` maps each row to its line in the file; None where lines don't apply."""

    path: Path
    frame: pl.DataFrame
    line_numbers: pl.Series | None

    def where(self, row_index: int) -> str:
        row = f"row {row_index + 1}"
        if self.line_numbers is not None:
            row += f" (line {self.line_numbers[row_index]})"
        return f"{self.path.name} {row}"


MOVIELENS_INTERACTIONS = InteractionColumns(
    user="userId", item="movieId", rating="rating", timestamp="timestamp"
)
MOVIELENS_ITEMS = ItemColumns(item="movieId", title="title", list_fields=["genres"])
MOVIELENS_NO_GENRES = "(no genres listed)"


def load_dataset(config: DataConfig) -> Dataset:
    """Read, validate and join the interactions and the catalog described by `config`."""
    root = Path(config.path)
    if not root.is_dir():
        raise DataError(f"{root}: data directory not found")
    layout = config.layout
    if layout == "auto":
        layout = "movielens" if (root / "ratings.csv").exists() else "generic"
    if layout == "movielens":
        interactions_path, items_path = root / "ratings.csv", root / "movies.csv"
        interaction_cols, item_cols = MOVIELENS_INTERACTIONS, MOVIELENS_ITEMS
        tags_path: Path | None = root / "tags.csv"
    else:
        interactions_path = root / config.interactions_file
        items_path = root / config.items_file if config.items_file is not None else None
        interaction_cols, item_cols = config.interactions, config.items
        tags_path = None

    warnings: list[str] = []
    items = (
        _load_items(
            _read_table(items_path, config, config.dat_item_names), item_cols, config, warnings
        )
        if items_path is not None
        else None
    )
    interaction_table = _read_table(interactions_path, config, config.dat_interaction_names)
    interactions = _load_interactions(interaction_table, interaction_cols, warnings)
    if items is None:
        items = _items_of_log(interactions)
        files = [interactions_path]
    else:
        known_items = set(items["item_id"].to_list())
        interactions = _drop_unknown_items(
            interactions, known_items, interactions_path, config, warnings
        )
        files = [interactions_path, items_path]
    if tags_path is not None and tags_path.exists():
        tags = _load_tags(_read_table(tags_path, config, []), known_items, config, warnings)
        items = (
            items.drop("tags")
            .join(tags, on="item_id", how="left")
            .with_columns(pl.col("tags").fill_null(pl.lit([], dtype=pl.List(pl.String))))
        )
        files.append(tags_path)
    feedback = resolve_feedback(
        config.feedback,
        interactions["rating"].to_numpy(),
        has_values=interaction_cols.rating is not None,
        source=interactions_path.name,
    )
    domain = config.domain or (MOVIE_DOMAIN if layout == "movielens" else DomainConfig())
    for message in warnings:
        log.warning(message)
    log.info(
        "loaded %d interactions, %d users, %d items from %s",
        interactions.height,
        interactions["user_id"].n_unique(),
        items.height,
        root,
    )
    return Dataset(
        interactions=interactions,
        items=items,
        data_hash=_hash_files(files),
        files=[str(path) for path in files],
        feedback=feedback,
        domain=domain,
        has_timestamps=interaction_cols.timestamp is not None,
        warnings=warnings,
    )


def _read_table(path: Path, config: DataConfig, dat_names: list[str]) -> _Table:
    """Read any supported file with every column as text, so validation sees the raw values.

    Text files without a header take their column names from `dat_names`.
    """
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            frame = pl.read_parquet(path)
        except Exception as exc:  # polars and pyarrow raise many types; all mean "unreadable file"
            raise DataError(f"{path}: cannot read file: {exc}") from exc
        return _Table(path, frame.with_columns(pl.all().cast(pl.String)), None)
    text = _decode(path, config.encoding)
    separator = config.separator or SUFFIX_SEPARATORS.get(suffix) or _sniff_separator(path, text)
    quote = config.quote_char
    if quote == "auto":  # TSV and `::` files have no quoting convention
        quote = '"' if separator == "," or config.escape_char else None
    if quote is not None and config.escape_char is not None:
        text = _unescape(path, text, quote, config.escape_char)
    elif quote is not None and "\\" + quote in text:  # polars would drop such quotes silently
        log.warning(
            "%s holds \\%s %d time(s); if the file escapes quotes with a backslash, "
            'set data.escape_char: "\\\\"',
            path.name,
            quote,
            text.count("\\" + quote),
        )
    return _read_text(path, text, separator, quote, None if config.has_header else dat_names)


def _unescape(path: Path, text: str, quote: str, escape: str) -> str:
    """`<escape><quote>` as a doubled quote and `<escape><escape>` as one escape, in one pass,
    so that polars (which knows doubled quotes only) reads the values as written."""
    if escape == quote:  # `""` is already what polars reads
        return text
    if len(escape.encode()) != 1:
        raise DataError(f"{path}: data.escape_char must be one ASCII character, not {escape!r}")
    if escape not in text:
        return text
    unescaped = {quote: quote + quote, escape: escape}
    pattern = re.compile(re.escape(escape) + f"([{re.escape(quote + escape)}])")
    return pattern.sub(lambda match: unescaped[match[1]], text)


def _decode(path: Path, encoding: str) -> str:
    """The file as text; polars' own `utf8-lossy` is accepted and replaces undecodable bytes."""
    lossy = encoding.lower().replace("-", "") == "utf8lossy"
    try:
        codec = codecs.lookup("utf8" if lossy else encoding).name
    except LookupError:
        raise DataError(
            f"{path}: unknown encoding {encoding!r}; set data.encoding to a Python codec name "
            "such as utf8, latin1 or cp1252"
        ) from None
    raw = path.read_bytes()
    try:
        # utf-8-sig drops a byte-order mark, which would otherwise stick to the first column name.
        return raw.decode(
            "utf-8-sig" if codec == "utf-8" else codec, "replace" if lossy else "strict"
        )
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"{path.name} line {line}: not {encoding} text ({exc.reason}, byte "
            f"{raw[exc.start]:#04x}); set data.encoding to the file's encoding, "
            "e.g. latin1 or cp1252"
        ) from exc


def _sniff_separator(path: Path, text: str) -> str:
    """The first of SNIFFED_SEPARATORS that splits each of the first lines into as many fields,
    else the first that occurs in all of them, so that a bad row's field count is reported."""
    head = text[:65536].split("\n")
    if len(text) > 65536:
        head.pop()  # possibly cut short
    sample = [line.rstrip("\r") for line in head if line.strip()][:SNIFFED_LINES]
    if not sample:
        raise DataError(f"{path}: empty file")
    consistent = [
        separator
        for separator in SNIFFED_SEPARATORS
        if len({line.count(separator) for line in sample}) == 1 and separator in sample[0]
    ]
    present = [sep for sep in SNIFFED_SEPARATORS if all(sep in line for line in sample)]
    if consistent or present:
        return (consistent or present)[0]
    raise DataError(
        f"{path}: cannot tell the separator from the first lines (tried '::', tab and ','); "
        "set data.separator"
    )


def _read_text(
    path: Path, text: str, separator: str, quote: str | None, names: list[str] | None
) -> _Table:
    """Parse with polars' CSV reader; blank lines are skipped and, without quoting, every row's
    field count is checked.

    polars takes one-byte separators only, so a longer one (`::`) is first replaced by a control
    character the file does not contain. Lines are numbered only where no quoted value spans
    lines, so that rows and lines correspond.
    """
    fields = ("tab" if separator == "\t" else repr(separator)) + "-separated fields"
    if len(separator.encode()) > 1:
        if quote is not None:
            raise DataError(
                f"{path}: quoted values need a one-byte separator, not {separator!r}; "
                "set data.quote_char: null"
            )
        stand_in = next((char for char in STAND_IN_SEPARATORS if char not in text), None)
        if stand_in is None:
            raise DataError(f"{path}: cannot split on {separator!r}; set data.separator")
        text, separator = text.replace(separator, stand_in), stand_in
    elif quote is not None and len(quote.encode()) != 1:
        raise DataError(f"{path}: data.quote_char must be one ASCII character, not {quote!r}")
    hint = (
        f"; if the file's values contain unescaped {quote} characters, set data.quote_char: null"
        if quote and quote in text
        else ""
    )
    try:
        frame = pl.read_csv(
            text.encode(),
            separator=separator,
            quote_char=quote,
            has_header=names is None,
            new_columns=names,
            infer_schema=False,
        )
    except Exception as exc:  # polars raises many types; all mean "unreadable file"
        problem = _first_bad_record(path, text, separator, quote, names, fields) or (
            f"{path.name}: cannot read file: "
            + (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        )
        raise DataError(problem + hint) from exc
    header_lines = 1 if names is None else 0
    line_count = text.count("\n") + (not text.endswith("\n"))
    line_numbers = (
        pl.Series(range(header_lines + 1, line_count + 1), dtype=pl.UInt32)
        if header_lines + frame.height == line_count
        else None
    )
    # polars reads a blank line as a row of nulls.
    blank = frame.select(pl.all_horizontal(pl.all().is_null())).to_series()
    if blank.any():
        frame = frame.filter(~blank)
        line_numbers = None if line_numbers is None else line_numbers.filter(~blank)
    # Unquoted, a short row (which polars pads with nulls) leaves the file short of separators.
    expected_separators = (frame.width - 1) * (frame.height + header_lines)
    if (quote is None or quote not in text) and text.count(separator) != expected_separators:
        problem = _first_bad_record(path, text, separator, quote, names, fields)
        if problem:
            raise DataError(problem)
    return _Table(path, frame, line_numbers)


def _first_bad_record(
    path: Path, text: str, separator: str, quote: str | None, names: list[str] | None, fields: str
) -> str | None:
    """'file row N (line L): why' for the first record that Python's strict csv reader rejects
    or whose field count is not the header's; polars' errors don't say where they are."""
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=separator,
        quotechar=quote or '"',
        quoting=csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE,
        strict=True,
    )
    rows, start_line = 0, 1
    try:
        for record in reader:
            if record and names is None:
                names = record
            elif record:
                rows += 1
                if len(record) != len(names):
                    return (
                        f"{path.name} row {rows} (line {start_line}): expected {len(names)} "
                        f"{fields} ({', '.join(names)}), got {len(record)}"
                    )
            start_line = reader.line_num + 1
    except csv.Error as exc:
        where = f"row {rows + 1} (line {start_line})" if names else f"line {start_line}"
        return f"{path.name} {where}: cannot read file: {exc}"
    return None


def _require_columns(table: _Table, columns: list[str]) -> None:
    missing = [name for name in columns if name not in table.frame.columns]
    if missing:
        raise DataError(
            f"{table.path}: missing column(s) {', '.join(repr(m) for m in missing)}; "
            f"found {', '.join(repr(c) for c in table.frame.columns)}"
        )


def _report_bad_rows(table: _Table, column: str, bad: pl.Series, what: str) -> None:
    """Raise naming the first few rows where `bad` is true."""
    indices = bad.arg_true().to_list()
    if not indices:
        return
    raw = table.frame[column]
    shown = "; ".join(
        f"{table.where(i)}, column '{column}': {what} {raw[i]!r}"
        for i in indices[:MAX_REPORTED_ROWS]
    )
    more = len(indices) - MAX_REPORTED_ROWS
    raise DataError(shown + (f" (and {more} more rows)" if more > 0 else ""))


def _ids(table: _Table, column: str, warnings: list[str] | None = None) -> pl.Series:
    """The column's ids, trimmed; ids that only whitespace told apart are merged, and counted
    in `warnings` when given."""
    raw = table.frame[column]
    ids = raw.str.strip_chars()
    _report_bad_rows(table, column, ids.is_null() | (ids == ""), "empty id")
    if warnings is not None:
        variants = raw.n_unique() - ids.n_unique()
        if variants:
            first = int((raw != ids).arg_true()[0])
            warnings.append(
                f"{table.where(first)}, column '{column}': {variants} id(s) differ from another "
                f"only by surrounding whitespace (first: {raw[first]!r}); merged after trimming"
            )
    return ids


def _numbers(table: _Table, column: str) -> pl.Series:
    raw = table.frame[column].str.strip_chars()
    values = raw.cast(pl.Float64, strict=False)
    _report_bad_rows(table, column, values.is_null() | values.is_nan(), "cannot parse as a number:")
    return values


def _timestamps(table: _Table, column: str) -> pl.Series:
    """Epoch seconds, or ISO-8601 date-times converted to epoch seconds."""
    raw = table.frame[column].str.strip_chars()
    values = raw.cast(pl.Int64, strict=False)
    not_epoch = values.is_null()
    if not_epoch.any():
        text = raw.zip_with(not_epoch, pl.Series([None] * len(raw), dtype=pl.String))
        try:
            parsed = text.str.to_datetime(strict=False, time_unit="us").dt.epoch("s")
        except pl.exceptions.ComputeError:  # no date-time format fits: every such row is bad
            parsed = pl.Series([None] * len(raw), dtype=pl.Int64)
        values = values.fill_null(parsed)
    _report_bad_rows(table, column, values.is_null(), "cannot parse as a timestamp:")
    return values


def _load_interactions(
    table: _Table, cols: InteractionColumns, warnings: list[str]
) -> pl.DataFrame:
    wanted = [cols.user, cols.item] + [c for c in (cols.rating, cols.timestamp) if c]
    _require_columns(table, wanted)
    n = table.frame.height
    return pl.DataFrame(
        {
            "user_id": _ids(table, cols.user),
            "item_id": _ids(table, cols.item, warnings),
            "rating": _numbers(table, cols.rating) if cols.rating else pl.Series([1.0] * n),
            # Without timestamps, file order is the order of events.
            "timestamp": _timestamps(table, cols.timestamp)
            if cols.timestamp
            else pl.Series(range(n), dtype=pl.Int64),
        }
    )


def _load_items(
    table: _Table, cols: ItemColumns, config: DataConfig, warnings: list[str]
) -> pl.DataFrame:
    _require_columns(table, [cols.item, cols.title, *cols.list_fields, *cols.text_fields])
    ids = _ids(table, cols.item, warnings)
    duplicated = ids.is_duplicated() & ~ids.is_first_distinct()
    # Whitespace variants of one id are merged (counted by `_ids`); true repeats are duplicates.
    raw = table.frame[cols.item]
    repeated = raw.is_duplicated() & ~raw.is_first_distinct()
    if config.duplicate_items == "error":
        try:
            _report_bad_rows(table, cols.item, repeated, "duplicate item id")
        except DataError as exc:
            raise DataError(
                f"{exc}; set data.duplicate_items: warn to keep each id's first row"
            ) from None
    frame = table.frame
    genre_lists = [
        frame[name].fill_null("").str.split(cols.list_separator) for name in cols.list_fields
    ]
    if genre_lists:
        combined = pl.select(pl.concat_list(genre_lists)).to_series()
        genres = combined.list.eval(pl.element().str.strip_chars()).list.eval(
            pl.element().filter((pl.element() != "") & (pl.element() != MOVIELENS_NO_GENRES))
        )
    else:
        genres = _empty_lists(frame.height)
    description = (
        pl.select(
            pl.concat_str([frame[name].fill_null("") for name in cols.text_fields], separator=". ")
        ).to_series()
        if cols.text_fields
        else pl.Series([""] * frame.height)
    )
    items = pl.DataFrame(
        {
            "item_id": ids,
            "title": frame[cols.title].fill_null("").str.strip_chars(),
            "genres": genres,
            "tags": _empty_lists(frame.height),
            "description": description,
        }
    )
    if repeated.any():
        first = int(repeated.arg_true()[0])
        warnings.append(
            f"{table.where(first)}: item id {ids[first]!r} already seen; "
            f"{int(repeated.sum())} such catalog row(s) dropped, each id keeps its first row"
        )
    return items.filter(~duplicated) if duplicated.any() else items


def _items_of_log(interactions: pl.DataFrame) -> pl.DataFrame:
    """The catalog of a log without an items file: each item id, in first-seen order, is its own
    title, and the catalog knows nothing else about it."""
    ids = interactions["item_id"].unique(maintain_order=True)
    return pl.DataFrame(
        {
            "item_id": ids,
            "title": ids,
            "genres": _empty_lists(len(ids)),
            "tags": _empty_lists(len(ids)),
            "description": pl.Series([""] * len(ids), dtype=pl.String),
        }
    )


def _empty_lists(n: int) -> pl.Series:
    """n empty string lists; `pl.Series([[]] * n)` takes seconds on a catalog of 1M items."""
    return pl.repeat(pl.lit([], dtype=pl.List(pl.String)), n, eager=True)


def _drop_unknown_items(
    interactions: pl.DataFrame,
    known_items: set[str],
    path: Path,
    config: DataConfig,
    warnings: list[str],
) -> pl.DataFrame:
    unknown = ~interactions["item_id"].is_in(list(known_items))
    count = int(unknown.sum())
    if count == 0:
        return interactions
    first = int(unknown.arg_true()[0])
    message = (
        f"{path.name}: {count} interaction(s) refer to items not in the catalog "
        f"(first: row {first + 1}, item_id {interactions['item_id'][first]!r})"
    )
    if config.unknown_items == "error":
        raise DataError(message)
    warnings.append(message + "; dropped")
    return interactions.filter(~unknown)


def _load_tags(
    table: _Table, known_items: set[str], config: DataConfig, warnings: list[str]
) -> pl.DataFrame:
    """The most frequent free-text tags of each item, lower-cased."""
    _require_columns(table, ["movieId", "tag"])
    tags = pl.DataFrame(
        {
            "item_id": _ids(table, "movieId"),
            "tag": table.frame["tag"].str.strip_chars().str.to_lowercase(),
        }
    ).filter(pl.col("tag").is_not_null() & (pl.col("tag") != ""))
    unknown = ~tags["item_id"].is_in(list(known_items))
    if unknown.any():
        warnings.append(
            f"{table.path.name}: {int(unknown.sum())} tag(s) refer to items not in the catalog; "
            "dropped"
        )
        tags = tags.filter(~unknown)
    return (
        tags.group_by("item_id", "tag")
        .len()
        .sort(["item_id", "len", "tag"], descending=[False, True, False])
        .group_by("item_id", maintain_order=True)
        .agg(pl.col("tag").head(config.max_tags_per_item).alias("tags"))
    )


def _hash_files(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
