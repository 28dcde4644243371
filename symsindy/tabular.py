"""Trajectories from CSV text: which column is what, and row-exact errors.

A CSV file holds a header row, a time column, optionally a trajectory-id column
and one column per state. Everything that would otherwise turn into a silently
wrong fit is an error naming the file, the line and the column: a row of the
wrong width, a missing or infinite value, a non-numeric entry, times that repeat
or go backwards, an unnamed or constant column picked up as a state. A time
column that starts again (a new run appended without an id column) splits the
file into runs, with a warning saying where.
"""

from __future__ import annotations

import csv
import io
import warnings
from pathlib import Path

import numpy as np

__all__ = ["read_csv_trajectories", "TIME_COLUMNS", "TRAJECTORY_COLUMNS"]

#: Column names recognised as time (case-insensitive).
TIME_COLUMNS = ("t", "time", "times", "timestamp")
#: Column names recognised as a trajectory id (case-insensitive).
TRAJECTORY_COLUMNS = (
    "trajectory",
    "traj",
    "run",
    "id",
    "trajectory_id",
    "traj_id",
    "run_id",
    "trial",
    "episode",
    "experiment",
    "series",
)
_MISSING = {"", "nan", "na", "n/a", "null", "none"}


def read_csv_trajectories(
    path,
    time: str | None = None,
    states: list[str] | None = None,
    trajectory: str | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """Trajectories, their time stamps and the state names from a CSV file.

    Parameters
    ----------
    path : str or Path
    time : str, optional
        Name of the time column (default: one of :data:`TIME_COLUMNS`).
    states : list of str, optional
        State columns, in order (default: every other column; then unnamed or
        constant columns are refused, since they are rarely states).
    trajectory : str, optional
        Trajectory-id column (default: one of :data:`TRAJECTORY_COLUMNS`, if
        present). Ids may be numbers or text.

    Raises
    ------
    ValueError
        With the file name, line number and column of the first problem.

    Examples
    --------
    >>> import tempfile, os
    >>> text = "run,t,x\\n" + "".join(f"{k},{i},{i * k}\\n" for k in (1, 2)
    ...                                for i in range(3))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "a.csv")
    ...     _ = open(p, "w").write(text)
    ...     trajs, times, names = read_csv_trajectories(p)
    >>> len(trajs), names, trajs[1][:, 0].tolist()
    (2, ['x'], [0.0, 2.0, 4.0])
    """
    path = Path(path)
    name = path.name
    header, rows = _rows(path)
    lower = [h.lower() for h in header]

    tcol = _column(header, time, "time", name) if time else _find(lower, TIME_COLUMNS)
    if tcol is None:
        raise ValueError(
            f"{name}: no time column; name one {list(TIME_COLUMNS)} or pass "
            f"--time NAME (columns are {header})"
        )
    if trajectory:
        jcol = _column(header, trajectory, "trajectory", name)
    else:
        jcol = _find(lower, TRAJECTORY_COLUMNS)
    if states:
        scols = [_column(header, s, "state", name) for s in states]
        if len(set(scols)) != len(scols) or {tcol, jcol} & set(scols):
            raise ValueError(
                f"{name}: state columns must be distinct and differ from the time "
                f"and trajectory columns, got {list(states)}"
            )
    else:
        scols = [i for i in range(len(header)) if i not in (tcol, jcol)]
        unnamed = [i + 1 for i in scols if not header[i] or _is_unnamed(header[i])]
        if unnamed:
            raise ValueError(
                f"{name}: column(s) at position {unnamed} have no name; name them "
                "in the header or choose the states with --states"
            )
    if not scols:
        raise ValueError(f"{name}: no state columns besides time")

    lines = [line for line, _ in rows]
    t = _numbers(rows, tcol, header, name)
    x = np.stack([_numbers(rows, j, header, name) for j in scols], axis=1)
    if not states:
        constant = [
            header[j] for j, col in zip(scols, x.T, strict=True) if np.ptp(col) == 0
        ]
        if constant:
            raise ValueError(
                f"{name}: column(s) {constant} are constant, so they are not states "
                "(a constant column makes every library term ambiguous); choose the "
                "states with --states"
            )
    labels = [row[jcol].strip() for _, row in rows] if jcol is not None else None
    trajs, times = _split(t, x, labels, lines, name)
    return trajs, times, [header[j] for j in scols]


def _rows(path: Path):
    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise ValueError(f"{path.name}: a binary file, not CSV text")
    try:
        text = raw.decode("utf-8-sig")  # strips a byte-order mark
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{path.name}: not UTF-8 text (byte {err.start}); save the CSV as UTF-8"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header, rows = None, []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue  # blank line
        if header is None:
            header = [h.strip() for h in row]
            continue
        if len(row) != len(header):
            raise ValueError(
                f"{path.name}: line {reader.line_num} has {len(row)} field(s), the "
                f"header has {len(header)} ({','.join(header)})"
            )
        rows.append((reader.line_num, row))
    if header is None or len(rows) < 2:
        raise ValueError(f"{path.name}: need a header row and at least two data rows")
    return header, rows


def _is_unnamed(name: str) -> bool:
    return name.lower().startswith("unnamed")  # pandas' name for an index column


def _find(lower: list[str], names) -> int | None:
    return next((lower.index(c) for c in names if c in lower), None)


def _column(header: list[str], wanted: str, role: str, name: str) -> int:
    lower = [h.lower() for h in header]
    if wanted.lower() not in lower:
        raise ValueError(f"{name}: no {role} column {wanted!r}; columns are {header}")
    return lower.index(wanted.lower())


def _numbers(rows, j: int, header, name) -> np.ndarray:
    out = np.empty(len(rows))
    for k, (line, row) in enumerate(rows):
        cell = row[j].strip()
        where = f"{name}: line {line}, column {header[j]!r}"
        if cell.lower() in _MISSING:
            raise ValueError(f"{where}: missing value (NaN or empty)")
        try:
            out[k] = float(cell)
        except ValueError:
            raise ValueError(f"{where}: non-numeric entry {cell!r}") from None
        if np.isinf(out[k]):
            raise ValueError(f"{where}: infinite value {cell!r}")
        if np.isnan(out[k]):
            raise ValueError(f"{where}: missing value (NaN or empty)")
    return out


def _split(t, x, labels, lines, name):
    """Rows grouped by trajectory id, or split where the time starts over."""
    if labels is not None:
        groups = {}
        for k, label in enumerate(labels):
            groups.setdefault(label, []).append(k)
        parts = list(groups.values())
        for rows in parts:
            steps = np.diff(t[rows])
            bad = np.flatnonzero(steps <= 0)
            if bad.size:
                r = rows[bad[0] + 1]
                raise ValueError(
                    f"{name}: line {lines[r]}: time {t[r]:g} does not increase "
                    f"(previous sample of trajectory {labels[r]!r} has "
                    f"{t[rows[bad[0]]]:g}); times must be strictly increasing"
                )
    else:
        parts, start, current = [], 0, [0]
        restarts = []
        for k in range(1, len(t)):
            if t[k] > t[k - 1]:
                current.append(k)
                continue
            if t[k] == t[k - 1]:
                raise ValueError(
                    f"{name}: line {lines[k]}: time {t[k]:g} repeats the previous "
                    "row; times must be strictly increasing"
                )
            if t[k] > t[start]:
                raise ValueError(
                    f"{name}: line {lines[k]}: time decreases ({t[k]:g} after "
                    f"{t[k - 1]:g}); times must be strictly increasing"
                )
            parts.append(current)
            start, current = k, [k]
            restarts.append(lines[k])
        parts.append(current)
        if restarts:
            warnings.warn(
                f"{name}: time starts again at line(s) {restarts}; read as "
                f"{len(parts)} separate runs (add a trajectory column to say so)",
                UserWarning,
                stacklevel=3,
            )
    return [x[rows] for rows in parts], [t[rows] for rows in parts]
