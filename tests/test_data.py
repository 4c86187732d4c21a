from pathlib import Path

import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal

from benchmarks.retrieval import LOADER_FORMATS, run_loader
from retrieval.config import (
    DEFAULT_DATA_DIR,
    DataConfig,
    InteractionColumns,
    ItemColumns,
    RetrievalConfig,
)
from retrieval.data import DataError, load_dataset

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ITEMS_CSV = "item_id,title,genres\nm1,One,Drama\nm2,Two,Comedy|Drama\n"
INTERACTIONS_HEADER = "user_id,item_id,rating,timestamp\n"
INTERACTIONS_CSV = INTERACTIONS_HEADER + "u1,m1,4.0,10\nu1,m2,3.0,20\nu2,m1,5.0,30\n"


def write_generic(
    tmp_path, interactions_csv: str = INTERACTIONS_CSV, items_csv: str = ITEMS_CSV, **config
) -> DataConfig:
    (tmp_path / "interactions.csv").write_text(interactions_csv)
    (tmp_path / "items.csv").write_text(items_csv)
    return DataConfig(path=tmp_path, layout="generic", **config)


def load_error(config: DataConfig) -> str:
    with pytest.raises(DataError) as info:
        load_dataset(config)
    return str(info.value)


def test_the_base_files_load(tmp_path):
    """Every error case below adds one bad value to these files."""
    dataset = load_dataset(write_generic(tmp_path))
    assert dataset.interactions.height == 3
    assert dataset.items["genres"].to_list() == [["Drama"], ["Comedy", "Drama"]]
    assert dataset.warnings == []


def test_missing_data_directory(tmp_path):
    message = load_error(DataConfig(path=tmp_path / "absent"))
    assert "absent" in message
    assert "data directory not found" in message


@pytest.mark.parametrize("missing", ["interactions.csv", "items.csv"])
def test_missing_file(tmp_path, missing):
    config = write_generic(tmp_path)
    (tmp_path / missing).unlink()
    message = load_error(config)
    assert missing in message
    assert "file not found" in message


@pytest.mark.parametrize(
    ("interactions", "items", "file", "column"),
    [
        ("user_id,item_id,timestamp\nu1,m1,10\n", ITEMS_CSV, "interactions.csv", "rating"),
        (INTERACTIONS_CSV, "item_id,genres\nm1,Drama\n", "items.csv", "title"),
    ],
)
def test_missing_column_names_column_and_file(tmp_path, interactions, items, file, column):
    message = load_error(write_generic(tmp_path, interactions, items))
    assert file in message
    assert f"missing column(s) '{column}'" in message


def test_unparsable_rating_names_file_row_line_column_and_value(tmp_path):
    interactions = INTERACTIONS_HEADER + "u1,m1,4.0,10\nu1,m2,five,20\n"
    message = load_error(write_generic(tmp_path, interactions))
    assert message == (
        "interactions.csv row 2 (line 3), column 'rating': cannot parse as a number: 'five'"
    )


def test_many_bad_rows_are_summarised(tmp_path):
    interactions = INTERACTIONS_HEADER + "".join(f"u1,m1,bad{i},{i}\n" for i in range(8))
    message = load_error(write_generic(tmp_path, interactions))
    assert message.count("cannot parse as a number") == 5
    assert "row 5 (line 6)" in message
    assert "row 6 " not in message
    assert message.endswith("(and 3 more rows)")


def test_unparsable_timestamp(tmp_path):
    interactions = INTERACTIONS_HEADER + "u1,m1,4.0,10\nu1,m2,3.0,yesterday\n"
    message = load_error(write_generic(tmp_path, interactions))
    assert message == (
        "interactions.csv row 2 (line 3), column 'timestamp': "
        "cannot parse as a timestamp: 'yesterday'"
    )


def test_iso_timestamps_become_epoch_seconds(tmp_path):
    interactions = (
        INTERACTIONS_HEADER
        + "u1,m1,4.0,2020-01-01T00:00:00\nu1,m2,3.0,1234\nu2,m1,5.0,2020-01-02T00:00:00\n"
    )
    dataset = load_dataset(write_generic(tmp_path, interactions))
    assert dataset.interactions["timestamp"].to_list() == [1577836800, 1234, 1577923200]


@pytest.mark.parametrize("user", ["", "  "])
def test_empty_user_id(tmp_path, user):
    interactions = INTERACTIONS_HEADER + f"u1,m1,4.0,10\n{user},m2,3.0,20\n"
    message = load_error(write_generic(tmp_path, interactions))
    assert message.startswith("interactions.csv row 2 (line 3), column 'user_id': empty id")


def test_duplicate_item_id_in_catalog(tmp_path):
    items = ITEMS_CSV + "m1,One again,Drama\n"
    message = load_error(write_generic(tmp_path, items_csv=items))
    assert message == (
        "items.csv row 3 (line 4), column 'item_id': duplicate item id 'm1'; "
        "set data.duplicate_items: warn to keep each id's first row"
    )


def test_duplicate_item_ids_can_keep_the_first_row_with_a_counted_warning(tmp_path):
    """Book-Crossing lists ISBN 0486404242 twice, once with a trailing tab."""
    items = ITEMS_CSV + "m1,One again,Drama\nm3,Three,Drama\nm2\t,Two again,Drama\n"
    dataset = load_dataset(write_generic(tmp_path, items_csv=items, duplicate_items="warn"))
    assert dataset.items["item_id"].to_list() == ["m1", "m2", "m3"]
    assert dataset.items["title"].to_list() == ["One", "Two", "Three"]
    assert dataset.interactions.height == 3
    assert dataset.warnings == [
        "items.csv row 5 (line 6), column 'item_id': 1 id(s) differ from another only by "
        "surrounding whitespace (first: 'm2\\t'); merged after trimming",
        "items.csv row 3 (line 4): item id 'm1' already seen; 1 such catalog row(s) dropped, "
        "each id keeps its first row",
    ]


def test_whitespace_variants_of_an_id_merge_without_duplicate_items_warn(tmp_path):
    """A trailing space is the same item, not a duplicate to refuse ("Duke Nukem Forever ")."""
    items = ITEMS_CSV + "m2 ,Two again,Drama\n"
    dataset = load_dataset(write_generic(tmp_path, items_csv=items))
    assert dataset.items["item_id"].to_list() == ["m1", "m2"]
    assert "1 id(s) differ from another only by surrounding whitespace" in dataset.warnings[0]


def test_a_log_without_an_items_file_is_its_own_title_only_catalog(tmp_path):
    """A game log: user, title, hours; the title is the id, and variants that differ only by
    surrounding whitespace are one game whose hours add up."""
    (tmp_path / "log.csv").write_text(
        "user,game,hours\nu1,Garry's Mod,120.5\nu1,Unturned,3.2\nu1,Duke Nukem Forever ,0.5\n"
        "u2,Duke Nukem Forever,1.1\nu2, Duke Nukem Forever,2\nu2,Garry's Mod,10\n"
    )
    config = DataConfig(
        path=tmp_path,
        layout="generic",
        interactions_file="log.csv",
        items_file=None,
        interactions={"user": "user", "item": "game", "rating": "hours", "timestamp": None},
    )
    dataset = load_dataset(config)
    assert dataset.items["item_id"].to_list() == ["Garry's Mod", "Unturned", "Duke Nukem Forever"]
    assert dataset.items["title"].to_list() == dataset.items["item_id"].to_list()
    assert dataset.items["genres"].to_list() == [[], [], []]
    assert dataset.feedback.kind == "implicit"  # hours: floats beyond any rating scale
    assert dataset.files == [str(tmp_path / "log.csv")]
    assert dataset.warnings == [
        "log.csv row 3 (line 4), column 'game': 2 id(s) differ from another only by "
        "surrounding whitespace (first: 'Duke Nukem Forever '); merged after trimming"
    ]


def test_interactions_with_unknown_items_are_dropped_with_a_counted_warning(tmp_path):
    interactions = INTERACTIONS_CSV + "u2,m9,4.0,40\nu3,m8,2.0,50\n"
    dataset = load_dataset(write_generic(tmp_path, interactions))
    assert dataset.interactions.height == 3
    assert set(dataset.interactions["item_id"]) == {"m1", "m2"}
    [warning] = dataset.warnings
    assert "interactions.csv: 2 interaction(s) refer to items not in the catalog" in warning
    assert "row 4, item_id 'm9'" in warning
    assert warning.endswith("dropped")


def test_unknown_items_can_be_an_error(tmp_path):
    interactions = INTERACTIONS_CSV + "u2,m9,4.0,40\n"
    message = load_error(write_generic(tmp_path, interactions, unknown_items="error"))
    assert "1 interaction(s) refer to items not in the catalog" in message


def test_dat_row_with_wrong_field_count(tmp_path):
    (tmp_path / "items.dat").write_text("m1::One::Drama\n")
    (tmp_path / "interactions.dat").write_text("u1::m1::4::10\n\nu1::m1::4\n")
    config = DataConfig(
        path=tmp_path,
        layout="generic",
        interactions_file="interactions.dat",
        items_file="items.dat",
        has_header=False,
    )
    message = load_error(config)
    # The blank line 2 is skipped: the short row is the second row, on line 3.
    assert message.startswith("interactions.dat row 2 (line 3): expected 4 '::'-separated fields")
    assert message.endswith("got 3")


# Generic layout: one data set in every supported format, with a custom column mapping.
CUSTOM_INTERACTIONS = InteractionColumns(user="uid", item="mid", rating="score", timestamp="ts")
CUSTOM_ITEMS = ItemColumns(item="mid", title="name", list_fields=["kind"])
DAT_INTERACTION_NAMES = ["uid", "mid", "score", "ts"]
DAT_ITEM_NAMES = ["mid", "name", "kind"]


def raw_frames(user_ids: list, item_ids: list) -> tuple[pl.DataFrame, pl.DataFrame]:
    interactions = pl.DataFrame(
        {
            "uid": [user_ids[0], user_ids[0], user_ids[1]],
            "mid": [item_ids[0], item_ids[1], item_ids[0]],
            "score": [4.5, 3.0, 5.0],
            "ts": [100, 200, 300],
        }
    )
    items = pl.DataFrame(
        {"mid": item_ids, "name": ["First", "Second"], "kind": ["Drama|Comedy", ""]}
    )
    return interactions, items


def write_frame(frame: pl.DataFrame, path, file_format: str) -> None:
    if file_format == "csv":
        frame.write_csv(path)
    elif file_format == "tsv":  # unquoted, as TSV has no quoting convention (polars quotes "")
        frame.write_csv(path, separator="\t", quote_style="never")
    elif file_format == "parquet":
        frame.write_parquet(path)
    else:
        lines = ("::".join(str(value) for value in row) for row in frame.iter_rows())
        path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("file_format", ["csv", "tsv", "parquet", "dat"])
@pytest.mark.parametrize(
    ("user_ids", "item_ids"), [(["u-1", "u-2"], ["m-x", "m-y"]), ([1, 2], [10, 20])]
)
def test_generic_layout_reads_every_format_the_same(tmp_path, file_format, user_ids, item_ids):
    interactions, items = raw_frames(user_ids, item_ids)
    write_frame(interactions, tmp_path / f"interactions.{file_format}", file_format)
    write_frame(items, tmp_path / f"items.{file_format}", file_format)
    config = DataConfig(
        path=tmp_path,
        layout="generic",
        interactions_file=f"interactions.{file_format}",
        items_file=f"items.{file_format}",
        interactions=CUSTOM_INTERACTIONS,
        items=CUSTOM_ITEMS,
        has_header=file_format != "dat",
        dat_interaction_names=DAT_INTERACTION_NAMES,
        dat_item_names=DAT_ITEM_NAMES,
    )
    dataset = load_dataset(config)

    users, items_ = [str(u) for u in user_ids], [str(i) for i in item_ids]
    expected_interactions = pl.DataFrame(
        {
            "user_id": [users[0], users[0], users[1]],
            "item_id": [items_[0], items_[1], items_[0]],
            "rating": [4.5, 3.0, 5.0],
            "timestamp": [100, 200, 300],
        }
    )
    expected_items = pl.DataFrame(
        {
            "item_id": items_,
            "title": ["First", "Second"],
            "genres": [["Drama", "Comedy"], []],
            "tags": [[], []],
            "description": ["", ""],
        },
        schema_overrides={"tags": pl.List(pl.String)},
    )
    assert_frame_equal(dataset.interactions, expected_interactions)
    assert_frame_equal(dataset.items, expected_items)
    assert dataset.warnings == []


@pytest.mark.parametrize(
    ("header", "columns", "column", "expected"),
    [
        ("user_id,item_id,timestamp", InteractionColumns(rating=None), "rating", [1.0] * 3),
        ("user_id,item_id,rating", InteractionColumns(timestamp=None), "timestamp", [0, 1, 2]),
    ],
)
def test_optional_interaction_columns_get_defaults(tmp_path, header, columns, column, expected):
    """Without timestamps, file order is the order of events."""
    interactions = f"{header}\nu1,m2,30\nu1,m1,20\nu2,m1,10\n"
    dataset = load_dataset(write_generic(tmp_path, interactions, interactions=columns))
    assert dataset.interactions[column].to_list() == expected


@pytest.fixture(scope="module")
def movielens():
    return load_dataset(DataConfig(path=DEFAULT_DATA_DIR))


def test_movielens_layout_on_the_embedded_data(movielens):
    assert movielens.interactions.height == 100004
    assert movielens.items.height == 9125
    assert movielens.interactions["user_id"].n_unique() == 671
    assert movielens.interactions.columns == ["user_id", "item_id", "rating", "timestamp"]
    assert movielens.items.filter(pl.col("tags").list.len() > 0).height > 0
    assert [path.rsplit("/", 1)[-1] for path in movielens.files] == [
        "ratings.csv",
        "movies.csv",
        "tags.csv",
    ]


def test_movielens_no_genres_listed_becomes_empty(movielens):
    genres = dict(movielens.items.select("item_id", "genres").iter_rows())
    assert genres["83829"] == []
    assert genres["1"] == ["Adventure", "Animation", "Children", "Comedy", "Fantasy"]


# Reader options: separator, quoting, encoding. Other files take the base files' commas.
def write_tables(tmp_path, suffix: str, written_with: str, items_csv: str = ITEMS_CSV, **config):
    (tmp_path / f"interactions{suffix}").write_text(INTERACTIONS_CSV.replace(",", written_with))
    (tmp_path / f"items{suffix}").write_text(items_csv.replace(",", written_with))
    return DataConfig(
        path=tmp_path,
        layout="generic",
        interactions_file=f"interactions{suffix}",
        items_file=f"items{suffix}",
        **config,
    )


@pytest.mark.parametrize("separator", ["::", "\t", ","])
def test_dat_separator_is_sniffed(tmp_path, separator):
    config = write_tables(tmp_path, ".dat", separator)
    # A comma inside a title must not make `::` or tab files look comma-separated.
    title = "One" if separator == "," else "One, The"
    items = tmp_path / "items.dat"
    items.write_text(items.read_text().replace("One", title))
    dataset = load_dataset(config)
    assert dataset.items["title"].to_list() == [title, "Two"]
    assert dataset.interactions["rating"].to_list() == [4.0, 3.0, 5.0]


@pytest.mark.parametrize(
    ("suffix", "separator"),
    [(".csv", ";"), (".txt", ";"), (".tsv", "|"), (".dat", "\t")],
)
def test_explicit_separator_wins_over_suffix_and_sniffing(tmp_path, suffix, separator):
    # In the .dat case every line also holds `::` once, which sniffing would take.
    items = "item_id,title,genres\nm1,One::Two,Drama\nm2,Two::Three,Comedy\n"
    config = write_tables(tmp_path, suffix, separator, items, separator=separator)
    dataset = load_dataset(config)
    assert dataset.items["title"].to_list() == ["One::Two", "Two::Three"]
    assert dataset.interactions["timestamp"].to_list() == [10, 20, 30]


def test_unknown_separator_asks_for_data_separator(tmp_path):
    message = load_error(write_tables(tmp_path, ".txt", ";"))
    assert message.endswith(
        "cannot tell the separator from the first lines "
        "(tried '::', tab and ','); set data.separator"
    )
    assert "items.txt" in message


WEIRD_AL = '"Weird Al" Yankovic'


@pytest.mark.parametrize("suffix", [".tsv", ".dat"])
def test_tab_files_read_unescaped_quotes_verbatim(tmp_path, suffix):
    items = f'item_id,title,genres\nm1,{WEIRD_AL},Comedy\nm2,"Two",Drama\n'
    dataset = load_dataset(write_tables(tmp_path, suffix, "\t", items))
    assert dataset.items["title"].to_list() == [WEIRD_AL, '"Two"']


def test_csv_quoting_is_on_by_default(tmp_path):
    items = 'item_id,title,genres\nm1,"One, The",Drama\nm2,"Two ""2""",Comedy\n'
    dataset = load_dataset(write_generic(tmp_path, items_csv=items))
    assert dataset.items["title"].to_list() == ["One, The", 'Two "2"']


def test_unescaped_quote_in_csv_names_the_line_and_data_quote_char(tmp_path):
    items = f"item_id,title,genres\nm2,Two,Drama\nm1,{WEIRD_AL},Comedy\n"
    message = load_error(write_generic(tmp_path, items_csv=items))
    assert message.startswith("items.csv row 2 (line 3): cannot read file: ")
    assert message.endswith(
        "if the file's values contain unescaped \" characters, set data.quote_char: null"
    )
    dataset = load_dataset(write_generic(tmp_path, items_csv=items, quote_char=None))
    assert dataset.items["title"].to_list() == ["Two", WEIRD_AL]


@pytest.mark.parametrize(
    ("written_with", "bad_row", "expected"),
    [
        (",", "m3,Three", "expected 3 ','-separated fields (item_id, title, genres), got 2"),
        (
            ",",
            "m3,Three,Drama,x",
            "expected 3 ','-separated fields (item_id, title, genres), got 4",
        ),
        ("\t", "m3\tThree", "expected 3 tab-separated fields (item_id, title, genres), got 2"),
    ],
)
def test_rows_with_the_wrong_field_count(tmp_path, written_with, bad_row, expected):
    """polars pads short rows with nulls and rejects long ones without saying where."""
    items = ITEMS_CSV.replace(",", written_with) + bad_row + "\n"
    config = write_tables(tmp_path, ".tsv" if written_with == "\t" else ".csv", written_with)
    (tmp_path / config.items_file).write_text(items)
    # No quote in the file: no advice about data.quote_char.
    assert load_error(config) == f"{config.items_file} row 3 (line 4): {expected}"


@pytest.mark.parametrize(
    "items",
    [
        "item_id,title,genres\nm1,One,Drama\n\nm2,Two,Comedy\n\n",
        'item_id,title,genres\nm1,"One",Drama\n\nm2,Two,Comedy\n\n',  # read by polars
    ],
)
def test_blank_lines_are_skipped_but_counted(tmp_path, items):
    items += "m1,again,Drama\n"
    message = load_error(write_generic(tmp_path, items_csv=items))
    assert message.startswith("items.csv row 3 (line 6), column 'item_id': duplicate item id 'm1';")


@pytest.mark.parametrize(
    ("encoding", "title"), [("latin1", "Beyoncé"), ("iso-8859-1", "Mötley Crüe"), ("cp1252", "€")]
)
def test_encoding_is_honoured(tmp_path, encoding, title):
    config = write_generic(tmp_path, encoding=encoding)
    items = f"item_id,title,genres\nm1,{title},Drama\nm2,Two,Comedy\n"
    (tmp_path / "items.csv").write_bytes(items.encode(encoding))
    assert load_dataset(config).items["title"].to_list() == [title, "Two"]


def test_undecodable_file_asks_for_data_encoding(tmp_path):
    config = write_generic(tmp_path)
    (tmp_path / "items.csv").write_bytes(
        "item_id,title,genres\nm1,Beyoncé,Drama\n".encode("latin1")
    )
    message = load_error(config)
    assert message.startswith("items.csv line 2: not utf8 text")
    assert "set data.encoding" in message


# Book-Crossing's style: `;`-separated, every field quoted, `\"` inside quotes, latin-1, CRLF.
BX_TITLES = [
    'Of Mice and Men (Steinbeck "Essentials")',
    '"O" Is for Outlaw',
    '"Pie-powder"; being dust from the law courts,',
    "Café\\Crème",
    'Ends in "quote"',
]


def write_book_crossing(tmp_path, **config) -> DataConfig:
    def line(*values: str) -> str:
        escaped = (value.replace("\\", "\\\\").replace('"', '\\"') for value in values)
        return ";".join(f'"{value}"' for value in escaped) + "\r\n"

    books = line("ISBN", "Book-Title", "Book-Author", "Publisher") + "".join(
        line(f"b{i}", title, "Müller; Jr.", "Pan") for i, title in enumerate(BX_TITLES)
    )
    ratings = line("User-ID", "ISBN", "Book-Rating") + line("7", "b2", "0") + line("7", "b4", "9")
    (tmp_path / "BX-Books.csv").write_bytes(books.encode("latin1"))
    (tmp_path / "BX-Book-Ratings.csv").write_bytes(ratings.encode("latin1"))
    return DataConfig(
        path=tmp_path,
        layout="generic",
        interactions_file="BX-Book-Ratings.csv",
        items_file="BX-Books.csv",
        interactions=InteractionColumns(
            user="User-ID", item="ISBN", rating="Book-Rating", timestamp=None
        ),
        items=ItemColumns(
            item="ISBN", title="Book-Title", list_fields=[], text_fields=["Book-Author"]
        ),
        separator=";",
        encoding="latin1",
        **config,
    )


@pytest.mark.parametrize("quote_char", ['"', "auto"])  # an escape character implies quoting
def test_backslash_escaped_quotes_are_read_verbatim(tmp_path, quote_char):
    config = write_book_crossing(tmp_path, escape_char="\\", quote_char=quote_char)
    dataset = load_dataset(config)
    assert dataset.items["title"].to_list() == BX_TITLES
    assert dataset.items["description"].unique().to_list() == ["Müller; Jr."]
    assert dataset.interactions.rows() == [("7", "b2", 0.0, 0), ("7", "b4", 9.0, 1)]
    assert dataset.warnings == []


def test_backslash_escaped_quotes_without_escape_char_are_not_read_silently(tmp_path, caplog):
    """polars reads `"a \\"b\\" c"` as `a \\b\\ c`: warn, and say what to set."""
    load_dataset(write_book_crossing(tmp_path, quote_char='"'))
    assert (
        'BX-Books.csv holds \\" 8 time(s); if the file escapes quotes with a backslash, '
        'set data.escape_char: "\\\\"'
    ) in caplog.text


def test_the_book_crossing_example_config_reads_such_files(tmp_path):
    raw = yaml.safe_load((PROJECT_ROOT / "data" / "configs" / "book-crossing.yaml").read_text())
    data = RetrievalConfig.model_validate(raw).data.model_copy(update={"path": tmp_path})
    write_book_crossing(tmp_path)
    dataset = load_dataset(data)
    assert dataset.items["title"].to_list() == BX_TITLES
    assert dataset.items["description"][0] == "Müller; Jr.. Pan"
    assert (dataset.feedback.kind, dataset.feedback.scale) == ("explicit", (0.0, 10.0))
    assert dataset.domain.item.plural == "books"


def test_hetrec_lastfm_layout(tmp_path):
    """Tab-separated .dat files with headers, play counts and no timestamps, sorted by user."""
    (tmp_path / "user_artists.dat").write_text(
        "userID\tartistID\tweight\n2\t51\t13883\n2\t52\t11690\n3\t51\t228\n"
    )
    (tmp_path / "artists.dat").write_text(
        "id\tname\turl\tpictureURL\n"
        "51\tDuran Duran\thttp://www.last.fm/music/Duran+Duran\thttp://img/1.jpg\n"
        f"52\t{WEIRD_AL}\thttp://www.last.fm/music/%22Weird+Al%22+Yankovic\t\n"
    )
    config = DataConfig(
        path=tmp_path,
        layout="generic",
        interactions_file="user_artists.dat",
        items_file="artists.dat",
        interactions=InteractionColumns(
            user="userID", item="artistID", rating="weight", timestamp=None
        ),
        items=ItemColumns(item="id", title="name", list_fields=[]),
    )
    dataset = load_dataset(config)
    assert dataset.items["title"].to_list() == ["Duran Duran", WEIRD_AL]
    assert dataset.interactions.rows() == [
        ("2", "51", 13883.0, 0),
        ("2", "52", 11690.0, 1),
        ("3", "51", 228.0, 2),
    ]
    assert not dataset.has_timestamps
    assert dataset.feedback.kind == "implicit"


def test_loader_benchmark_reads_every_format_in_full():
    report = run_loader(rows=600, repeats=1)
    loaded = {name: row["interactions"] for name, row in report["formats"].items()}
    assert loaded == dict.fromkeys(LOADER_FORMATS, 600)
