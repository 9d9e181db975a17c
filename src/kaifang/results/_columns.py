"""A result table as named numpy columns, before it becomes a :class:`pandas.DataFrame`.

The multi-sector model builds its tables as :class:`Columns`; a :class:`~kaifang.results.RunResult`
turns them into DataFrames the first time ``regions`` or ``tables`` is read. The command line's
``kaifang run --json`` prints and saves them (JSON, Parquet through pyarrow) straight from the
columns, so a run that only prints and saves never imports pandas (a third of a second at start-up).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = ["Columns", "as_frame", "column", "table_columns"]


class Columns:
    """An immutable table: named one-dimensional numpy arrays of one length, in order.

    Parameters
    ----------
    data
        Column name -> values (anything :func:`numpy.asarray` takes, one value per row) or a
        scalar, which fills the column.

    Raises
    ------
    ValueError
        Columns of different lengths, or a column that is not one-dimensional.
    """

    __slots__ = ("_data", "_n")

    def __init__(self, data: Mapping[str, Any]) -> None:
        arrays = {str(k): np.asarray(v) for k, v in data.items()}
        lengths = {a.shape[0] for a in arrays.values() if a.ndim == 1}
        if any(a.ndim > 1 for a in arrays.values()) or len(lengths) > 1:
            shapes = {k: a.shape for k, a in arrays.items() if a.ndim != 0}
            raise ValueError(f"columns must be one-dimensional and of one length, got shapes {shapes}")
        n = lengths.pop() if lengths else 0
        self._data = {k: (np.full(n, a[()]) if a.ndim == 0 else a) for k, a in arrays.items()}
        self._n = n

    @property
    def columns(self) -> list[str]:
        """The column names, in order."""
        return list(self._data)

    def __len__(self) -> int:
        return self._n

    def __contains__(self, name: object) -> bool:
        return name in self._data

    def __getitem__(self, name: str) -> np.ndarray:
        return self._data[name]

    @property
    def nbytes(self) -> int:
        """Bytes the table takes in memory, an upper bound on its DataFrame's deep memory use:
        the arrays' own bytes, plus 16 bytes a row for each text column (the offsets and
        validity of pandas' string columns)."""
        return sum(a.nbytes + (16 * self._n if a.dtype.kind in "OSU" else 0) for a in self._data.values())

    def __repr__(self) -> str:
        return f"Columns({self._n} rows: {', '.join(self._data)})"

    def assign(self, **columns: Any) -> Columns:
        """A new table with these columns replaced or added (at the end)."""
        return Columns({**self._data, **columns})

    @classmethod
    def concat(cls, parts: Sequence[Columns]) -> Columns:
        """The rows of ``parts`` (tables with the same columns, in order) one after the other."""
        names = parts[0].columns
        for p in parts[1:]:
            if p.columns != names:
                raise ValueError(f"cannot stack tables with columns {names} and {p.columns}")
        return cls({k: np.concatenate([p[k] for p in parts]) for k in names})

    def records(self) -> list[dict[str, Any]]:
        """One ``{column: value}`` dict per row, with Python scalars (what
        ``DataFrame.to_dict(orient="records")`` gives)."""
        names = self.columns
        values = [self._data[k].tolist() for k in names]
        return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]

    def to_pandas(self) -> pd.DataFrame:
        """The table as a DataFrame (text columns of dtype object, as pandas makes them)."""
        import pandas as pd

        return pd.DataFrame(
            {k: (a.astype(object) if a.dtype.kind == "U" else a) for k, a in self._data.items()}
        )

    def to_arrow(self) -> pa.Table:
        """The table as a :class:`pyarrow.Table` (for Parquet), as pandas would convert it (NaN
        in a float column is a null), built from the arrays' buffers: ``pyarrow.array`` would
        import pandas to inspect its argument."""
        import pyarrow as pa

        names = self.columns
        return pa.Table.from_arrays([_arrow_array(self._data[k]) for k in names], names=names)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Columns, (self._data,))


def _validity(valid: np.ndarray) -> Any:
    import pyarrow as pa

    return None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))


def _arrow_array(a: np.ndarray) -> pa.Array:
    """One column as an Arrow array, from its buffers (numbers, booleans, text)."""
    import pyarrow as pa

    n = a.shape[0]
    if a.dtype.kind == "f":
        a = np.ascontiguousarray(a, dtype=np.float64)
        valid = ~np.isnan(a)
        nulls = n - int(valid.sum())
        return pa.Array.from_buffers(pa.float64(), n, [_validity(valid), pa.py_buffer(a)], null_count=nulls)
    if a.dtype.kind in "iu":
        a = np.ascontiguousarray(a)
        return pa.Array.from_buffers(pa.from_numpy_dtype(a.dtype), n, [None, pa.py_buffer(a)])
    if a.dtype.kind == "b":
        bits = np.packbits(np.ascontiguousarray(a, dtype=bool), bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), n, [None, pa.py_buffer(bits)])
    if a.dtype.kind == "U" or (a.dtype.kind == "O" and all(isinstance(x, str) for x in a)):
        data = [str(x).encode() for x in a.tolist()]
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum([len(d) for d in data], out=offsets[1:])
        return pa.Array.from_buffers(
            pa.large_string() if offsets[-1] >= 2**31 else pa.string(),
            n,
            [
                None,
                pa.py_buffer(offsets if offsets[-1] >= 2**31 else offsets.astype(np.int32)),
                pa.py_buffer(b"".join(data)),
            ],
        )
    return pa.array(a)  # anything else (mixed objects): pyarrow's own conversion


def column(table: Columns | pd.DataFrame, name: str) -> np.ndarray:
    """Column ``name`` of a :class:`Columns` or DataFrame as a numpy array."""
    values = table[name]
    return values if isinstance(values, np.ndarray) else values.to_numpy()


def table_columns(table: Columns | pd.DataFrame) -> list[str]:
    """The column names of a :class:`Columns` or DataFrame."""
    return [str(c) for c in table.columns]


def as_frame(table: Columns | pd.DataFrame) -> pd.DataFrame:
    """``table`` as a DataFrame (a :class:`Columns` converted, a DataFrame as it is)."""
    return table.to_pandas() if isinstance(table, Columns) else table
