"""Where things live: the shipped data (package data of `hwplan.data`) and the user's default store."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

# Package data: `hwplan.data` is a regular package installed as files, so its Traversable is a Path.
DATA_DIR = Path(str(files("hwplan.data")))
CATALOG_CSV = DATA_DIR / "catalog.csv"
WORKLOADS_CSV = DATA_DIR / "workloads.csv"
PUBLISHED_CSV = DATA_DIR / "published_results.csv"
MEASURED_DIR = DATA_DIR / "measured"
RAW_MLPERF_CSV = DATA_DIR / "raw" / "mlperf_inference_v3.0_v3.1.csv"  # source of PUBLISHED_CSV (data/raw/README.md)
PUBLISHED_SERVING_CSV = DATA_DIR / "published_serving.csv"  # LLM serving tables beyond MLPerf, mapped from RAW_SERVING
RAW_SERVING = (DATA_DIR / "raw" / "serving_tensorrt_llm.csv", DATA_DIR / "raw" / "serving_other.csv")
PUBLISHED_TRAINING_CSV = DATA_DIR / "published_training.csv"  # training results the training model is fitted on
TRAINING_RUNS_CSV = DATA_DIR / "training_runs.csv"  # reference runs: samples to a benchmark's quality target by batch
RAW_TRAINING = tuple(DATA_DIR / "raw" / f for f in ("training_mlperf.csv", "training_vendor.csv",
                                                      "training_vendor_nonllm.csv", "training_volumes.csv"))
PRICES_CSV = DATA_DIR / "prices.csv"  # the one price catalog: instance-level cloud prices (hwplan.core.prices)
CARBON_CSV = DATA_DIR / "carbon_intensity.csv"  # grid carbon intensity by cloud region, country and grid
PUBLISHED_FILES = (PUBLISHED_CSV, PUBLISHED_SERVING_CSV)  # what a new store is seeded with (plus MEASURED_DIR)


def default_db_url() -> str:
    """`HWPLAN_DB` (URL or file path) or a SQLite file in the user's data directory."""
    from hwplan.core.settings import settings

    env = settings().db
    if env:
        return as_db_url(env)
    from platformdirs import user_data_dir

    folder = Path(user_data_dir("hwplan", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return sqlite_url(folder / "hwplan.db")


def cache_dir() -> Path:
    """`HWPLAN_CACHE_DIR`, or the user's cache folder: where fitted models are kept."""
    from hwplan.core.settings import settings

    configured = settings().cache_dir
    if configured:
        return configured
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("hwplan", appauthor=False)) / "costmodel"


def as_db_url(value: str) -> str:
    """Accept a SQLAlchemy URL or a plain file path (taken as SQLite)."""
    if "://" in value:
        return value
    return sqlite_url(Path(value).expanduser().resolve())


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file. '%', '?' and '#' are percent-quoted (SQLAlchemy unquotes the file name,
    and would read '?' as the start of its query); everything else, spaces included, stays as written."""
    return "sqlite:///" + str(path).replace("%", "%25").replace("?", "%3F").replace("#", "%23")


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL, read as SQLAlchemy reads it (query cut off, the name percent-unquoted); None for
    another database or an in-memory one."""
    from urllib.parse import unquote

    if not url.startswith("sqlite"):
        return None
    name = unquote(url.split("///", 1)[-1].split("?", 1)[0]) if "///" in url else ""
    return None if not name or name == ":memory:" else Path(name)
