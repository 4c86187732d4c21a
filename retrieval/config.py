"""Typed configuration for the retrieval side, in one place.

Every default works on the embedded MovieLens data; the model defaults were chosen with
`recsplain evaluate --tune`, which tunes on a validation split carved from train only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "ml-latest-small"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InteractionColumns(_Strict):
    """Which column of the interactions file holds what."""

    user: str = "user_id"
    item: str = "item_id"
    rating: str | None = "rating"
    timestamp: str | None = "timestamp"


class ItemColumns(_Strict):
    """Which column of the items file holds what; text fields feed the content embedding."""

    item: str = "item_id"
    title: str = "title"
    list_fields: list[str] = Field(default_factory=lambda: ["genres"])
    text_fields: list[str] = Field(default_factory=list)
    list_separator: str = "|"


FeedbackKind = Literal["explicit", "implicit", "binary"]


class FeedbackConfig(_Strict):
    """What the interactions' value column means.

    - `explicit`: ratings on a declared scale (`scale`, min and max; 0.5-5 for MovieLens);
    - `implicit`: counts or weights with no upper bound (plays, clicks, hours);
    - `binary`: 1 for an interaction (0, when present, for a negative one).

    `auto` infers the kind, and for explicit ratings the scale, from the values at build time
    (see `retrieval.feedback.infer_feedback`); the resolved kind and scale are what the manifest
    stores and what serving uses.
    """

    kind: Literal["auto", "explicit", "implicit", "binary"] = "auto"
    scale: tuple[float, float] | None = Field(
        None, description="explicit ratings: (min, max); None infers it from the values"
    )


class ItemWords(_Strict):
    """A catalog item's name in one language, singular and plural ("artist", "artists")."""

    singular: str = Field(min_length=1, max_length=40)
    plural: str = Field(min_length=1, max_length=40)


class DomainConfig(_Strict):
    """What the catalog's items are, in words, so explanations say "artist" and not "movie".

    `item` is the English word. Other supported languages take their word from `translations`,
    else from serving's built-in dictionary of common item words, else their word for "item".
    `action` is the English past tense of what users do with items ("played", "watched",
    "bought"), used for implicit feedback ("you played X often"); None says it without a verb.
    """

    item: ItemWords = Field(default_factory=lambda: ItemWords(singular="item", plural="items"))
    action: str | None = Field(None, max_length=40)
    translations: dict[str, ItemWords] = Field(default_factory=dict)


MOVIE_DOMAIN = DomainConfig(item=ItemWords(singular="movie", plural="movies"), action="watched")


class DataConfig(_Strict):
    r"""Where the data is and how to read it.

    `layout="movielens"` reads ratings.csv, movies.csv and tags.csv. `layout="generic"` reads one
    interactions file and one items file (CSV, TSV, parquet or `::`-separated .dat) with the
    column mapping below. `items_file: null` is a log with no catalog file: the interactions'
    item column is both the id and the title (a game log of user, title, hours).

    Ids and titles are trimmed; ids that differ only by surrounding whitespace ("Duke Nukem
    Forever " and "Duke Nukem Forever") are one item, with a warning that counts them.

    Text files: `separator` None picks it by suffix (`,` for .csv, tab for .tsv/.tab, and for .dat
    or any other suffix whichever of `::`, tab or `,` the first lines use). `quote_char` "auto"
    honours `"` quoting in comma-separated files only: TSV and `::` files have no quoting
    convention, so a title such as `"Weird Al" Yankovic` is read as written. None turns quoting
    off everywhere. `encoding` is any Python codec name (utf8, latin1, cp1252).

    `escape_char` is the character that escapes a quote inside a quoted value: `\` (`"\\"` in
    YAML) for files that write `\"` inside quoted values, and `\\` for a backslash; None: quotes
    are escaped by doubling them (`""`), as in RFC 4180. Setting it turns "auto" quoting on
    whatever the separator.
    """

    path: Path = DEFAULT_DATA_DIR
    layout: Literal["auto", "movielens", "generic"] = "auto"
    interactions_file: str = "interactions.csv"
    items_file: str | None = "items.csv"
    interactions: InteractionColumns = Field(default_factory=InteractionColumns)
    items: ItemColumns = Field(default_factory=ItemColumns)
    has_header: bool = True
    dat_interaction_names: list[str] = Field(
        default_factory=lambda: ["user_id", "item_id", "rating", "timestamp"]
    )
    dat_item_names: list[str] = Field(default_factory=lambda: ["item_id", "title", "genres"])
    separator: str | None = Field(None, min_length=1, max_length=4)
    quote_char: str | None = Field("auto", min_length=1, max_length=4)
    encoding: str = "utf8"
    escape_char: str | None = Field(None, min_length=1, max_length=1)
    feedback: FeedbackConfig = Field(default_factory=FeedbackConfig)
    domain: DomainConfig | None = Field(
        None, description="None: movies for the MovieLens layout, items otherwise"
    )
    unknown_items: Literal["warn", "error"] = "warn"
    duplicate_items: Literal["error", "warn"] = Field(
        "error", description="warn: keep each item id's first catalog row, drop the others"
    )
    max_tags_per_item: int = 10


class PreprocessConfig(_Strict):
    """How raw interactions become training and test data."""

    min_user_interactions: int = Field(2, ge=2, description="two, so each user has train and test")
    min_item_interactions: int = Field(1, ge=1)
    positive_threshold: float | Literal["auto"] | None = Field(
        "auto",
        description="values at or above this are positives; None treats all as positive; auto: "
        "70% of an explicit scale's max (3.5 of 5), any nonzero count, a binary 1",
    )
    test_fraction: float = Field(0.1, gt=0, lt=1)
    split: Literal["auto", "temporal", "random", "file_order", "leave_one_out"] = Field(
        "auto",
        description="holdout per user; auto: temporal with timestamps, else seeded random",
    )
    seed: int = 42


class ALSConfig(_Strict):
    factors: int = Field(32, ge=2)
    regularization: float = Field(0.2, ge=0)
    alpha: float = Field(2.0, gt=0)
    iterations: int = Field(15, ge=1)
    seed: int = 42


def default_embedding_cache() -> Path:
    """`$XDG_CACHE_HOME/recsplain/embeddings`, else `~/.cache/recsplain/embeddings`."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / (
        "recsplain/embeddings"
    )


class ContentConfig(_Strict):
    """The sentence encoder for item text, and where its vectors are cached.

    `cache_dir` keeps every embedding by sha256(model, text), so a rebuild embeds only new or
    changed texts: 1M short item texts take about 50 min to embed on 2 idle cores, and 10 s to
    read back (benchmarks/scale.py). It is shared by all builds and safe to delete; None turns
    the cache off.
    """

    model: str = "all-MiniLM-L6-v2"
    batch_size: int = Field(128, ge=1)
    max_chars: int = Field(512, ge=16)
    cache_dir: Path | None = Field(default_factory=default_embedding_cache)


class HybridConfig(_Strict):
    """How a user's history becomes one query vector.

    score(user, item) = cf_weight * cf + content_weight * content + popularity_weight * log-pop,
    with history items weighted by rating and by recency (a half-life counted in interactions, so
    an anonymous history in chronological order works the same as a stored one).
    """

    cf_weight: float = Field(1.0, ge=0)
    content_weight: float = Field(0.6, ge=0)
    popularity_weight: float = Field(0.0, ge=0)
    recency_half_life: float = Field(3.0, gt=0)


class ModelConfig(_Strict):
    """Which model is served; `recsplain build` chooses it on a validation split (see
    `retrieval.selection`) unless run with `--no-tune`, and stores the choice in the manifest.

    - `hybrid`: ALS + content + popularity in one FAISS inner product (`HybridConfig`);
    - `ease` / `itemknn`: item-item weights (Steck's EASE, or cosine neighbours) learnt from the
      interaction matrix, scored exactly: a user's score is the sum of their liked items' weight
      rows, scaled to a maximum of 1, plus `popularity_blend` times the item's log popularity
      (0-1). EASE is kept whole where its weights over the items seen in train fit
      `max_weights_mb` as dense float32 (8k items: 256 MB); above that each item keeps as many of
      its largest weights as fit. What is evaluated is what is stored and served.

    `values` is what one liked item contributes: `binary` 1, or `weight` its feedback weight
    (the rating, or log(1 + count) for plays and hours; `retrieval.feedback.weights`).
    EASE inverts an items x items matrix of the items seen in training, so it is a candidate only
    up to `ease_max_items` of them (about 5 GB of memory and a few minutes on 2 cores at 20k).
    """

    kind: Literal["hybrid", "ease", "itemknn"] = "hybrid"
    values: Literal["binary", "weight"] = "binary"
    popularity_blend: float = Field(0.0, ge=0)
    ease_lambda: float = Field(100.0, gt=0)
    itemknn_neighbors: int = Field(100, ge=1)
    # 1 GB holds EASE whole up to 16k items: on Book-Crossing (13k books) pruning it to 512 MB
    # made it lose to ItemKNN on validation, and served trailed whole EASE on test (0.995x).
    max_weights_mb: int = Field(1024, ge=1)
    ease_max_items: int = Field(20_000, ge=1)


class IndexConfig(_Strict):
    """FAISS index choice: exact inner product up to `exact_max_items`, approximate above."""

    kind: Literal["auto", "flat", "hnsw", "ivf"] = "auto"
    exact_max_items: int = Field(50_000, ge=1)
    approximate: Literal["hnsw", "ivf"] = "hnsw"
    hnsw_m: int = Field(32, ge=4)
    hnsw_ef_construction: int = Field(80, ge=8)
    hnsw_ef_search: int = Field(128, ge=1)
    ivf_lists: int | None = Field(None, description="None picks about 4*sqrt(n)")
    ivf_probe: int = Field(32, ge=1)


class EvidenceConfig(_Strict):
    max_items: int = Field(3, ge=1, le=10)
    min_similarity: float = 0.2


class EvalConfig(_Strict):
    k: int = Field(10, ge=1)
    ease_lambda: float = Field(100.0, gt=0)
    itemknn_neighbors: int = Field(100, ge=1)


class RetrievalConfig(_Strict):
    """Everything a build or an evaluation needs; stored whole in the artifact manifest."""

    data: DataConfig = Field(default_factory=DataConfig)
    preprocess: PreprocessConfig = Field(default_factory=PreprocessConfig)
    als: ALSConfig = Field(default_factory=ALSConfig)
    content: ContentConfig = Field(default_factory=ContentConfig)
    hybrid: HybridConfig = Field(default_factory=HybridConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    index: IndexConfig = Field(default_factory=IndexConfig)
    evidence: EvidenceConfig = Field(default_factory=EvidenceConfig)
    evaluation: EvalConfig = Field(default_factory=EvalConfig)

    @classmethod
    def from_yaml(cls, path: Path | None, data: Path | None = None) -> RetrievalConfig:
        """A config file (none: the defaults), with its data directory replaced by `data`."""
        import yaml

        raw = yaml.safe_load(path.read_text()) if path else {}
        config = cls.model_validate(raw or {})
        if data is not None:
            config = config.model_copy(
                update={"data": config.data.model_copy(update={"path": data})}
            )
        return config

    def for_dataset(self, feedback: FeedbackConfig, domain: DomainConfig) -> RetrievalConfig:
        """This config with the data's resolved feedback and domain, as a build stores it."""
        data = self.data.model_copy(update={"feedback": feedback, "domain": domain})
        return self.model_copy(update={"data": data})
