"""Sparse user-item matrices over the catalog's item order."""

from __future__ import annotations

import numpy as np
import polars as pl
import scipy.sparse as sp


def item_positions(items: pl.DataFrame) -> dict[str, int]:
    """Map each item id to its row in the catalog, which is also its id in the FAISS index."""
    return {item_id: position for position, item_id in enumerate(items["item_id"].to_list())}


def user_item_matrix(
    interactions: pl.DataFrame,
    users: list[str],
    positions: dict[str, int],
    values: str | None = None,
) -> sp.csr_matrix:
    """A users x items CSR matrix; cells hold `values` (a column) or 1.

    Users are the rows in the order given; interactions of other users are ignored.
    """
    user_rows = {user: row for row, user in enumerate(users)}
    frame = interactions.filter(pl.col("user_id").is_in(users))
    rows = np.fromiter((user_rows[u] for u in frame["user_id"].to_list()), dtype=np.int64)
    cols = np.fromiter((positions[i] for i in frame["item_id"].to_list()), dtype=np.int64)
    data = (
        frame[values].to_numpy().astype(np.float32)
        if values
        else np.ones(frame.height, dtype=np.float32)
    )
    return sp.csr_matrix((data, (rows, cols)), shape=(len(users), len(positions)))


def liked_matrix(
    interactions: pl.DataFrame, positions: dict[str, int], values: str | None = None
) -> tuple[list[str], sp.csr_matrix]:
    """The users who liked anything (first-seen order) and their users x items matrix of
    positives: 1s, or the `values` column."""
    positives = interactions.filter(pl.col("positive"))
    users = positives["user_id"].unique(maintain_order=True).to_list()
    return users, user_item_matrix(positives, users, positions, values=values)
