"""Public data sets: registry, mirror, cache and download (``kaifang data ...``)."""

from kaifang.data.registry import DATASETS, DataFile, Dataset, get_dataset
from kaifang.data.store import cache_dir, fetch, locate, mirror_dir, status, verify

__all__ = [
    "DATASETS",
    "DataFile",
    "Dataset",
    "cache_dir",
    "fetch",
    "get_dataset",
    "locate",
    "mirror_dir",
    "status",
    "verify",
]
