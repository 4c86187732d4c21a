"""Realistic synthetic implicit feedback: users' play counts of invented music artists.

The files follow the hetrec-2011 Last.fm layout (tab-separated `.dat` with a header line, no
quoting), so they exercise the same readers as the real data at any size:

- `user_artists.dat`: `userID  artistID  weight`, sorted by user then artist id, one row per
  (user, artist) pair, weight = play count (1 to about 10^5), no timestamps;
- `artists.dat`: `id  name  genres  tags`, labels `|`-separated. Names are invented from
  syllables and unique; a few carry unescaped double quotes (`"Zubi" Marantho`), some have
  accents, Cyrillic or katakana, so a reader that assumes quoting or ASCII fails here.

The model, chosen so that collaborative filtering beats popularity as it does on real data:

- latent *scenes* (taste clusters) nest in coarse genres; a scene's genre is a visible label,
  the scene itself is not, so behaviour carries information the catalog text lacks;
- each artist belongs to 1-3 scenes (a second one mostly of the same genre) and has a global
  popularity from a Zipf law over a random order of ids; its `genres` are its scenes' genres
  (one label in ten swapped for a random genre) and its `tags` a few of its main scene's style
  tags plus the odd random one;
- each user mixes 1-5 scenes with Dirichlet weights and plays `activity` artists, log-normal and
  clipped to [min, max] (heavy-tailed, hetrec keeps the top 50); each play picks a scene from
  the mixture and an artist in it by popularity, except a `noise` share that picks any artist
  by popularity (mainstream listening), so popularity is a fair but beatable baseline;
- play counts are log-normal with a user effect (heavy and light listeners), an artist effect
  tied to popularity and a bonus for in-taste artists.

Everything is drawn from one numpy generator: the same options and seed give the same bytes.
Vectorized throughout: 10M interactions over 1M artists take about a minute and a few GB.

    python -m benchmarks.synthetic data/synthetic-music --users 2000 --artists 4000 --seed 7
    python -m benchmarks.synthetic /tmp/music-10m --interactions 10000000 --artists 1000000
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import numpy as np
import polars as pl
import typer

log = logging.getLogger(__name__)

INTERACTIONS_FILE = "user_artists.dat"
ARTISTS_FILE = "artists.dat"

GENRES = (
    "rock", "pop", "electronic", "hip hop", "jazz", "metal", "folk", "indie", "soul", "punk",
    "country", "classical", "reggae", "blues", "ambient", "techno", "house", "latin", "r&b",
    "funk", "trance", "drum and bass", "singer-songwriter", "world",
)  # fmt: skip
STYLE_TAGS = (
    "female vocals", "male vocals", "instrumental", "80s", "90s", "00s", "lo-fi", "dreamy",
    "energetic", "melancholic", "acoustic", "experimental", "danceable", "live", "psychedelic",
    "atmospheric", "catchy", "dark", "chill", "epic", "underground", "minimal", "orchestral",
    "guitar", "synth", "political", "romantic", "summer", "covers", "cinematic",
)  # fmt: skip

# Syllable parts, common ones repeated so that names stay pronounceable ("Malo", "Trevin").
ONSETS = tuple("bdfgklmnprstvz") * 3 + ("br", "dr", "kr", "st", "tr", "sh", "ch", "j", "")
VOWELS = tuple("aeiou") * 4 + ("ai", "ou", "ea", "y", "io")
CODAS = ("",) * 12 + ("n", "r", "l", "s", "x", "m", "nd", "k")
ACCENTED = {"a": "å", "e": "é", "i": "ï", "o": "ø", "u": "ü", "n": "ñ"}
CYRILLIC = dict(zip("abdefghijklmnoprstuvyz", "абдефгхийклмнопрстувыз", strict=True)) | {
    "x": "кс",
    "sh": "ш",
    "ch": "ч",
}
SYLLABLE = (ONSETS, VOWELS, CODAS)
KANA = tuple("カキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモラリルレロヤユヨワン")
FORMS = ("word", "word word", "the words", "dj word", "word & the words", "quoted")
FORM_WEIGHTS = (0.35, 0.4, 0.15, 0.05, 0.05, 0.0)
# Names with a nickname in quotes ("Weird Al" Yankovic): unescaped quotes in the file.
QUOTED_SHARE = 0.01
MAX_TASTE_SCENES = 5


@dataclass(frozen=True)
class SyntheticConfig:
    """The generator's options; see the module docstring for what each one models."""

    artists: int = 4000
    users: int | None = 2000
    interactions: int | None = None
    scenes: int | None = None
    min_activity: int = 5
    max_activity: int = 50
    activity_median: float = 25.0
    activity_sigma: float = 0.7
    zipf_exponent: float = 0.9
    noise: float = 0.25
    count_median: float = 130.0
    count_sigma: float = 1.0
    user_count_sigma: float = 0.8
    seed: int = 7

    @property
    def scene_count(self) -> int:
        """About sqrt(artists) scenes unless given: tens of artists each, like real niches."""
        if self.scenes is not None:
            return min(self.scenes, self.artists)
        return int(np.clip(round(np.sqrt(self.artists)), 8, min(2000, self.artists)))


def _words(rng: np.random.Generator, n: int, syllables: tuple[float, ...]) -> list[str]:
    """`n` capitalized pronounceable words; `syllables[k]`: the share with k + 1 syllables."""
    count = rng.choice(np.arange(1, len(syllables) + 1), n, p=syllables)
    total = int(count.sum())
    parts = [np.asarray(choices)[rng.integers(0, len(choices), total)] for choices in SYLLABLE]
    joined = np.char.add(np.char.add(parts[0], parts[1]), parts[2]).tolist()
    ends = np.cumsum(count).tolist()
    return [
        "".join(joined[end - c : end]).capitalize()
        for c, end in zip(count.tolist(), ends, strict=True)
    ]


def _accented(name: str, draw: float) -> str:
    """`name` with one accentable letter accented (which one depends on `draw` in [0, 1))."""
    spots = [i for i, letter in enumerate(name) if letter in ACCENTED]
    if not spots:
        return name
    i = spots[int(draw * len(spots))]
    return name[:i] + ACCENTED[name[i]] + name[i + 1 :]


def _cyrillic(name: str) -> str:
    out, i, lower = [], 0, name.lower()
    while i < len(lower):
        pair = lower[i : i + 2]
        if pair in CYRILLIC:
            out.append(CYRILLIC[pair])
            i += 2
        else:
            out.append(CYRILLIC.get(lower[i], lower[i]))
            i += 1
    return " ".join(part.capitalize() for part in "".join(out).split(" "))


def _name(form: str, first: str, second: str, nickname: str) -> str:
    return {
        "word": first,
        "word word": f"{first} {second}",
        "the words": f"The {first}s",
        "dj word": f"DJ {first}",
        "word & the words": f"{first} & the {second}s",
        "quoted": f'"{nickname}" {first} {second}',
    }[form]


def artist_names(rng: np.random.Generator, n: int) -> list[str]:
    """`n` unique invented names: band and person forms, a few accented, Cyrillic or katakana."""
    names: dict[str, None] = {}
    while len(names) < n:
        batch = int((n - len(names)) * 1.2) + 16
        first = _words(rng, batch, (0.25, 0.55, 0.2))
        second = _words(rng, batch, (0.25, 0.55, 0.2))
        nickname = _words(rng, batch, (0.6, 0.4))
        forms = np.asarray(FORMS)[rng.choice(len(FORMS), batch, p=FORM_WEIGHTS)]
        forms[rng.random(batch) < QUOTED_SHARE] = "quoted"
        script, accent = rng.random(batch), rng.random(batch)
        kana = rng.integers(0, len(KANA), (batch, 4))
        for i, form in enumerate(forms.tolist()):
            name = _name(form, first[i], second[i], nickname[i])
            if script[i] < 0.03:
                name = _accented(name, accent[i])
            elif script[i] < 0.035:
                name = _cyrillic(name)
            elif script[i] < 0.04:
                name = "".join(KANA[k] for k in kana[i, : 2 + i % 3])
            names.setdefault(name, None)
    return list(names)[:n]


def _activities(rng: np.random.Generator, config: SyntheticConfig) -> np.ndarray:
    """Artists per user: log-normal, clipped; as many users as the interaction target needs."""

    def draw(n: int) -> np.ndarray:
        raw = rng.lognormal(np.log(config.activity_median), config.activity_sigma, n)
        return np.clip(np.rint(raw), config.min_activity, config.max_activity).astype(np.int64)

    if config.users is not None:
        return draw(config.users)
    if config.interactions is None:
        raise ValueError("give users or interactions")
    activity = draw(config.interactions // config.min_activity + 1)
    enough = int(np.searchsorted(np.cumsum(activity), config.interactions)) + 1
    return activity[:enough]


def _labels(
    rng: np.random.Generator, config: SyntheticConfig, memberships: list[np.ndarray]
) -> tuple[list[str], list[str]]:
    """Each artist's visible genres (its scenes' genres, some swapped) and style tags."""
    n_scenes = config.scene_count
    scene_genre = rng.choice(len(GENRES), n_scenes, p=_zipf(len(GENRES), 0.8))
    scene_tags = rng.integers(0, len(STYLE_TAGS), (n_scenes, 3))
    genre_ids = np.stack([scene_genre[m] for m in memberships], axis=1)  # artists x 3
    swapped = rng.random(genre_ids.shape) < 0.1
    genre_ids = np.where(swapped, rng.integers(0, len(GENRES), genre_ids.shape), genre_ids)
    main = memberships[0]
    shown = rng.random((config.artists, 3)) < 0.4
    extra = np.where(
        rng.random(config.artists) < 0.2, rng.integers(0, len(STYLE_TAGS), config.artists), -1
    )
    present = [np.ones(config.artists, bool), memberships[1] >= 0, memberships[2] >= 0]
    genres, tags = [], []
    for a in range(config.artists):
        labels = [GENRES[genre_ids[a, j]] for j in range(3) if present[j][a]]
        genres.append("|".join(dict.fromkeys(labels)))
        chosen = [
            STYLE_TAGS[t] for t, show in zip(scene_tags[main[a]], shown[a], strict=True) if show
        ]
        if extra[a] >= 0:
            chosen.append(STYLE_TAGS[extra[a]])
        tags.append("|".join(dict.fromkeys(chosen)))
    return genres, tags


def _zipf(n: int, exponent: float) -> np.ndarray:
    weights = np.arange(1, n + 1, dtype=np.float64) ** -exponent
    return weights / weights.sum()


def _memberships(rng: np.random.Generator, config: SyntheticConfig) -> list[np.ndarray]:
    """Main, second and third scene of each artist (-1: none); every scene gets an artist."""
    n, n_scenes = config.artists, config.scene_count
    scene_size = _zipf(n_scenes, 0.5)[rng.permutation(n_scenes)]
    main = rng.choice(n_scenes, n, p=scene_size)
    main[rng.permutation(n)[:n_scenes]] = np.arange(n_scenes)
    extra_count = rng.choice(3, n, p=(0.6, 0.3, 0.1))
    second = np.where(extra_count >= 1, rng.choice(n_scenes, n, p=scene_size), -1)
    third = np.where(extra_count >= 2, rng.choice(n_scenes, n, p=scene_size), -1)
    second = np.where(second == main, -1, second)
    third = np.where((third == main) | (third == second), -1, third)
    return [main, second, third]


def _scene_sampler(memberships: list[np.ndarray], popularity: np.ndarray):
    """A function (scenes, uniforms) -> artists, picking within each scene by popularity.

    An artist weighs its popularity in its main scene and half of it in the others.
    """
    scene = np.concatenate(memberships)
    artist = np.tile(np.arange(len(popularity)), len(memberships))
    weight = np.concatenate([popularity * share for share in (1.0, 0.5, 0.5)])
    keep = scene >= 0
    scene, artist, weight = scene[keep], artist[keep], weight[keep]
    order = np.lexsort((artist, scene))
    scene, artist, weight = scene[order], artist[order], weight[order]
    starts = np.searchsorted(scene, np.arange(scene.max() + 1))
    cumulative = np.cumsum(weight)
    before = np.concatenate([[0.0], cumulative])[starts]
    totals = np.add.reduceat(weight, starts)
    within = (cumulative - before[scene]) / totals[scene]
    # One sorted key per (scene, artist): scene + the artist's cumulative share of the scene.
    keys = scene + np.minimum(within, 1.0 - 1e-12)

    def sample(scenes: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
        return artist[np.searchsorted(keys, scenes + uniforms, side="right")]

    return sample


def _tastes(
    rng: np.random.Generator, n_users: int, scene_weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each user's scenes (users x MAX_TASTE_SCENES) and the cumulative weights over them."""
    scenes = rng.choice(len(scene_weight), (n_users, MAX_TASTE_SCENES), p=scene_weight)
    used = 1 + np.minimum(rng.poisson(0.8, n_users), MAX_TASTE_SCENES - 1)
    mixture = rng.dirichlet(np.ones(MAX_TASTE_SCENES), n_users)
    mixture *= np.arange(MAX_TASTE_SCENES)[None, :] < used[:, None]
    return scenes, np.cumsum(mixture / mixture.sum(axis=1, keepdims=True), axis=1)


def _plays(
    rng: np.random.Generator,
    config: SyntheticConfig,
    activity: np.ndarray,
    memberships: list[np.ndarray],
    popularity: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(user, artist, in taste) of every play: `activity[u]` distinct artists per user u."""
    n_users, n_artists = len(activity), len(popularity)
    sample_in_scene = _scene_sampler(memberships, popularity)
    global_cdf = np.cumsum(popularity)
    global_cdf /= global_cdf[-1]
    scene_weight = np.bincount(memberships[0], weights=popularity, minlength=config.scene_count)
    scene_weight += 1e-9
    taste_scenes, taste_cdf = _tastes(rng, n_users, scene_weight / scene_weight.sum())

    users = np.empty(0, np.int64)
    artists = np.empty(0, np.int64)
    in_taste = np.empty(0, bool)
    missing = activity.copy()
    for _ in range(6):  # redraw for users whose draws repeated artists; rarely more than 3 rounds
        wanted = np.flatnonzero(missing > 0)
        if wanted.size == 0:
            break
        user = np.repeat(wanted, missing[wanted] * 2 + 4)
        slot = (rng.random(user.size)[:, None] > taste_cdf[user]).sum(axis=1)
        scene = taste_scenes[user, np.minimum(slot, MAX_TASTE_SCENES - 1)]
        taste_pick = rng.random(user.size) >= config.noise
        artist = np.where(
            taste_pick,
            sample_in_scene(scene, rng.random(user.size)),
            np.searchsorted(global_cdf, rng.random(user.size), side="right"),
        )
        users = np.concatenate([users, user])
        artists = np.concatenate([artists, np.minimum(artist, n_artists - 1)])
        in_taste = np.concatenate([in_taste, taste_pick])
        # Keep each pair's first draw, then each user's first `activity` distinct artists.
        _, first = np.unique(users * n_artists + artists, return_index=True)
        first.sort()
        users, artists, in_taste = users[first], artists[first], in_taste[first]
        order = np.argsort(users, kind="stable")
        users, artists, in_taste = users[order], artists[order], in_taste[order]
        starts = np.searchsorted(users, np.arange(n_users))
        keep = np.arange(users.size) - starts[users] < activity[users]
        users, artists, in_taste = users[keep], artists[keep], in_taste[keep]
        missing = activity - np.bincount(users, minlength=n_users)
    return users, artists, in_taste


def _play_counts(
    rng: np.random.Generator,
    config: SyntheticConfig,
    plays: tuple[np.ndarray, np.ndarray, np.ndarray],
    popularity: np.ndarray,
) -> np.ndarray:
    """Log-normal counts: heavy and light listeners, popular artists played more, and more
    plays for artists in the user's taste than for mainstream picks."""
    users, artists, in_taste = plays
    user_effect = rng.normal(0.0, config.user_count_sigma, users.max() + 1)
    log_popularity = np.log(popularity)
    artist_effect = 0.35 * (log_popularity - log_popularity.mean()) / log_popularity.std()
    artist_effect += rng.normal(0.0, 0.5, len(popularity))
    log_count = (
        np.log(config.count_median)
        + user_effect[users]
        + artist_effect[artists]
        + np.where(in_taste, 0.5, -0.5)
        + rng.normal(0.0, config.count_sigma, users.size)
    )
    return np.maximum(1, np.rint(np.exp(np.minimum(log_count, np.log(1e6))))).astype(np.int64)


def generate(config: SyntheticConfig) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The (interactions, artists) frames of the hetrec layout for `config`."""
    rng = np.random.default_rng(config.seed)
    n_artists = config.artists
    popularity = _zipf(n_artists, config.zipf_exponent)[rng.permutation(n_artists)]
    memberships = _memberships(rng, config)
    activity = _activities(rng, config)
    users, artists, in_taste = _plays(rng, config, activity, memberships, popularity)
    weight = _play_counts(rng, config, (users, artists, in_taste), popularity)
    order = np.lexsort((artists, users))
    interactions = pl.DataFrame(
        {"userID": users[order] + 1, "artistID": artists[order] + 1, "weight": weight[order]}
    )
    genres, tags = _labels(rng, config, memberships)
    catalog = pl.DataFrame(
        {
            "id": np.arange(1, n_artists + 1),
            "name": artist_names(rng, n_artists),
            "genres": genres,
            "tags": tags,
        }
    )
    return interactions, catalog


def write(interactions: pl.DataFrame, artists: pl.DataFrame, out: Path) -> None:
    """Tab-separated with a header and no quoting, as hetrec's files are."""
    out.mkdir(parents=True, exist_ok=True)
    for frame, name in ((interactions, INTERACTIONS_FILE), (artists, ARTISTS_FILE)):
        frame.write_csv(out / name, separator="\t", quote_style="never", line_terminator="\n")


app = typer.Typer(add_completion=False)


@app.command()
def main(
    out: Annotated[Path, typer.Argument(help="Folder for user_artists.dat and artists.dat.")],
    artists: Annotated[int, typer.Option(help="Catalog size.")] = SyntheticConfig.artists,
    users: Annotated[
        int | None, typer.Option(help="Users; default: as many as --interactions needs.")
    ] = None,
    interactions: Annotated[
        int | None, typer.Option(help="About this many rows (used when --users is not given).")
    ] = None,
    scenes: Annotated[
        int | None, typer.Option(help="Taste clusters; default ~sqrt(artists).")
    ] = None,
    noise: Annotated[float, typer.Option(help="Share of plays outside the user's taste.")] = (
        SyntheticConfig.noise
    ),
    seed: Annotated[int, typer.Option()] = SyntheticConfig.seed,
) -> None:
    """Generate a synthetic Last.fm-style dataset into OUT."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if users is None and interactions is None:
        users = SyntheticConfig.users
    config = SyntheticConfig(
        artists=artists,
        users=users,
        interactions=interactions,
        scenes=scenes,
        noise=noise,
        seed=seed,
    )
    start = time.perf_counter()
    frames = generate(config)
    write(*frames, out)
    log.info(
        "wrote %d interactions of %d users over %d artists to %s in %.1f s",
        frames[0].height,
        frames[0]["userID"].n_unique(),
        frames[1].height,
        out,
        time.perf_counter() - start,
    )


if __name__ == "__main__":
    app()
