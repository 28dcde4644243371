"""Sufficient statistics of a linear regression, accumulated chunk by chunk.

Enforce, promote and the symmetry test see the data only through

    gram = Theta^T W Theta,   xty = Theta^T W Y,   yty = Y^T W Y,   n_samples,

and, for the effective sample size of correlated residuals, the lagged cross
products ``sum_s z_s^T z_(s+k)`` of the rows ``z_s = sqrt(w_s) [theta_s, y_s]``
for pairs of samples ``k`` apart *within one trajectory*. All of these are sums
over samples, so they can be accumulated from chunks of any size, merged across
workers, and never need more than one chunk in memory.

Memory is ``(max_lag + 1) * (n_features + n_targets)^2`` floats, independent of
the number of samples. The default ``max_lag`` is :data:`DEFAULT_MAX_LAG` (it
covers the correlation that the default Savitzky-Golay window of 11 samples and
the finite-difference stencil put into numerical derivatives), lowered so that
the lagged blocks stay under :data:`LAG_MEMORY_BUDGET` bytes.

Derivatives of trajectories read in chunks are computed on each chunk widened by
a halo of rows on both sides (the smoother's window plus the difference stencil),
and only the chunk's own rows are kept: every value equals the one computed on
the whole trajectory, including the one-sided formulas at true trajectory ends.
"""

from __future__ import annotations

import copy

import numpy as np

from ._validation import check_finite, check_sample_weight
from .threads import single_blas_thread

__all__ = [
    "SufficientStatistics",
    "DEFAULT_MAX_LAG",
    "LAG_MEMORY_BUDGET",
    "default_max_lag",
    "differentiation_halo",
    "dask_array_from_npy",
]

#: Largest default lag of the residual autocovariance (samples).
DEFAULT_MAX_LAG = 20

#: Memory allowed for the lagged cross-product blocks by the default ``max_lag``.
LAG_MEMORY_BUDGET = 200 * 2**20

#: Default number of rows read (and differentiated) at a time.
DEFAULT_CHUNK_SIZE = 50_000


def default_max_lag(n_features: int, n_targets: int) -> int:
    """``DEFAULT_MAX_LAG``, lowered so the lag blocks fit ``LAG_MEMORY_BUDGET``.

    Examples
    --------
    >>> default_max_lag(84, 6)  # 6 states, degree 3
    20
    >>> default_max_lag(1771, 20)  # 20 states, degree 3: 25 MB per lag
    7
    """
    per_lag = 8 * (n_features + n_targets) ** 2
    return int(max(0, min(DEFAULT_MAX_LAG, LAG_MEMORY_BUDGET // per_lag - 1)))


class SufficientStatistics:
    """Cross products of library and targets, accumulated over chunks.

    Build one with :meth:`from_arrays` or :meth:`from_trajectories`, or start
    empty and call :meth:`update` chunk by chunk; combine partial results of
    consecutive pieces of data with :meth:`merge`.

    Parameters
    ----------
    n_features, n_targets : int
    max_lag : int, optional
        Largest lag of :meth:`residual_autocovariance` (see :func:`default_max_lag`).

    Attributes
    ----------
    gram : ndarray (n_features, n_features)
        ``Theta^T W Theta``.
    xty : ndarray (n_features, n_targets)
        ``Theta^T W Y``.
    yty : ndarray (n_targets, n_targets)
        ``Y^T W Y``.
    n_samples : int
        Number of rows accumulated.
    n_trajectories : int
        Number of trajectories started.
    max_lag : int
    pair_counts : ndarray (max_lag + 1,)
        Number of sample pairs ``k`` apart within a trajectory, per lag ``k``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> theta, y = rng.normal(size=(100, 3)), rng.normal(size=(100, 2))
    >>> stats = SufficientStatistics.from_arrays(theta, y, max_lag=2)
    >>> np.allclose(stats.gram, theta.T @ theta), stats.n_samples
    (True, 100)
    >>> coef = np.zeros((2, 3))
    >>> np.allclose(stats.rss(coef), (y**2).sum(axis=0))
    True
    >>> stats.pair_counts.tolist()
    [100, 99, 98]
    """

    def __init__(self, n_features: int, n_targets: int, max_lag: int | None = None):
        self.n_features = int(n_features)
        self.n_targets = int(n_targets)
        if max_lag is None:
            max_lag = default_max_lag(self.n_features, self.n_targets)
        if int(max_lag) != max_lag or max_lag < 0:
            raise ValueError(f"max_lag must be a non-negative integer, got {max_lag}")
        self.max_lag = int(max_lag)
        width = self.n_features + self.n_targets
        # lagged[k] = sum_s z_s^T z_(s+k): gram, xty and yty are blocks of lag 0.
        self._lagged = np.zeros((self.max_lag + 1, width, width))
        self.pair_counts = np.zeros(self.max_lag + 1, dtype=np.int64)
        self.n_samples = 0
        self.n_trajectories = 0
        # Rows needed to join with neighbouring pieces of the same trajectory.
        self._head = np.zeros((0, width))  # first rows of the first trajectory
        self._tail = np.zeros((0, width))  # last rows of the last trajectory
        self._continues = False  # the first rows continue an earlier piece
        self._one_trajectory = True  # every row so far is in one trajectory

    # ------------------------------------------------------------ statistics
    @property
    def gram(self) -> np.ndarray:
        return self._lagged[0, : self.n_features, : self.n_features]

    @property
    def xty(self) -> np.ndarray:
        return self._lagged[0, : self.n_features, self.n_features :]

    @property
    def yty(self) -> np.ndarray:
        return self._lagged[0, self.n_features :, self.n_features :]

    def __repr__(self) -> str:
        return (
            f"SufficientStatistics(n_features={self.n_features}, "
            f"n_targets={self.n_targets}, n_samples={self.n_samples}, "
            f"n_trajectories={self.n_trajectories}, max_lag={self.max_lag})"
        )

    def _check_coef(self, coef) -> np.ndarray:
        coef = check_finite("coef", coef)
        if coef.shape != (self.n_targets, self.n_features):
            raise ValueError(
                f"coef must have shape (n_targets, n_features) = "
                f"({self.n_targets}, {self.n_features}), got {coef.shape}"
            )
        return coef

    def rss(self, coef) -> np.ndarray:
        """Residual sum of squares per target of ``Y - Theta coef^T``.

        ``rss_j = yty_jj - 2 c_j . xty_j + c_j^T gram c_j``; like every normal-
        equation quantity it loses relative accuracy when the residual is many
        orders of magnitude below ``Y`` (the result is clipped at 0).
        """
        return self.residual_autocovariance(self._check_coef(coef), lags=1)[0]

    def residual_autocovariance(self, coef, lags: int | None = None) -> np.ndarray:
        """``sum_s r_s r_(s+k)`` per lag ``k`` and target, within trajectories.

        Parameters
        ----------
        coef : array (n_targets, n_features)
            Coefficients in pysindy's layout (rows are targets).
        lags : int, optional
            Number of lags to return (default ``max_lag + 1``).

        Returns
        -------
        ndarray (lags, n_targets)
            Row 0 is :meth:`rss`; divide row ``k`` by ``pair_counts[k]`` for the
            autocovariance estimate.
        """
        coef = self._check_coef(coef)
        lags = self.max_lag + 1 if lags is None else int(lags)
        # r = z @ [-coef, I]^T, so sum r_s r_(s+k)^T = A^T lagged[k] A.
        A = np.vstack([-coef.T, np.eye(self.n_targets)])  # (f + t, t)
        blocks = self._lagged[:lags]
        out = np.einsum("ij,kil,lj->kj", A, blocks, A, optimize=True)
        out[0] = np.maximum(out[0], 0.0)
        return out

    # ---------------------------------------------------------- accumulation
    def update(
        self, theta_chunk, y_chunk, new_trajectory: bool = True, sample_weight=None
    ) -> SufficientStatistics:
        """Add consecutive rows of one trajectory.

        Parameters
        ----------
        theta_chunk : array (m, n_features)
        y_chunk : array (m, n_targets)
        new_trajectory : bool, default True
            False when the rows continue the trajectory of the previous update
            (pairs across the chunk boundary then count in the lagged sums).
        sample_weight : array (m,), optional
            Rows are scaled by ``sqrt(w)``, so lag 0 is the weighted Gram matrix.

        Returns
        -------
        self
        """
        theta = check_finite("theta_chunk", theta_chunk)
        y = check_finite("y_chunk", y_chunk)
        if y.ndim == 1:
            y = y[:, None]
        if theta.ndim != 2 or theta.shape[1] != self.n_features:
            raise ValueError(
                f"theta_chunk must have shape (m, {self.n_features}), got {theta.shape}"
            )
        if y.shape != (theta.shape[0], self.n_targets):
            raise ValueError(
                f"y_chunk must have shape ({theta.shape[0]}, {self.n_targets}), "
                f"got {y.shape}"
            )
        if theta.shape[0] == 0:
            return self
        z = np.hstack([theta, y])
        w = check_sample_weight(sample_weight, len(z))
        if w is not None:
            z *= np.sqrt(w)[:, None]
        self._add_rows(z, new_trajectory)
        return self

    def _add_rows(self, z: np.ndarray, new_trajectory: bool) -> None:
        empty = self.n_samples == 0
        if empty:
            self._continues = not new_trajectory
        elif new_trajectory:
            self._one_trajectory = False
        if new_trajectory:
            self.n_trajectories += 1
            self._tail = z[:0]
        self._add_cross(self._tail, z)
        for k in range(min(self.max_lag, len(z) - 1) + 1):
            self._lagged[k] += z[: len(z) - k].T @ z[k:]
            self.pair_counts[k] += len(z) - k
        if self._one_trajectory and len(self._head) < self.max_lag:
            self._head = np.vstack([self._head, z[: self.max_lag]])[: self.max_lag]
        self._tail = _last(
            np.vstack([self._tail, _last(z, self.max_lag)]), self.max_lag
        )
        self.n_samples += len(z)

    def _add_cross(self, before: np.ndarray, after: np.ndarray) -> None:
        """Pairs with the first row in ``before`` and the second in ``after``."""
        p = len(before)
        if p == 0 or len(after) == 0:
            return
        u = np.vstack([before, after[: self.max_lag]])
        for k in range(1, self.max_lag + 1):
            lo, hi = max(0, p - k), min(p, len(u) - k)
            if hi > lo:
                self._lagged[k] += u[lo:hi].T @ u[lo + k : hi + k]
                self.pair_counts[k] += hi - lo

    def merge(self, other: SufficientStatistics) -> SufficientStatistics:
        """Statistics of this data followed by ``other``'s (a new object).

        If ``other`` was started with ``new_trajectory=False`` its first rows
        continue this object's last trajectory, and the pairs across the join
        are added from the stored boundary rows. Merging is associative, so
        partial results can be reduced in a tree as long as their order is kept.
        """
        if not isinstance(other, SufficientStatistics):
            raise TypeError(f"can only merge SufficientStatistics, got {type(other)}")
        if (other.n_features, other.n_targets, other.max_lag) != (
            self.n_features,
            self.n_targets,
            self.max_lag,
        ):
            raise ValueError(
                "cannot merge statistics with different n_features, n_targets or "
                "max_lag"
            )
        return copy.deepcopy(self)._merge_into(other)

    def _merge_into(self, other: SufficientStatistics) -> SufficientStatistics:
        if other.n_samples == 0:
            return self
        if self.n_samples == 0:
            self.__dict__.update(copy.deepcopy(other.__dict__))
            return self
        join = other._continues
        if join:
            self._add_cross(self._tail, other._head)
        self._lagged += other._lagged
        self.pair_counts += other.pair_counts
        self.n_samples += other.n_samples
        self.n_trajectories += other.n_trajectories
        if self._one_trajectory and join and len(self._head) < self.max_lag:
            self._head = np.vstack([self._head, other._head])[: self.max_lag]
        if join and other._one_trajectory:
            self._tail = _last(np.vstack([self._tail, other._tail]), self.max_lag)
        else:
            self._tail = other._tail.copy()
        self._one_trajectory = self._one_trajectory and other._one_trajectory and join
        return self

    # ---------------------------------------------------------- constructors
    @classmethod
    def from_arrays(
        cls,
        theta,
        y,
        trajectory_ids=None,
        sample_weight=None,
        max_lag: int | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> SufficientStatistics:
        """Statistics of a library matrix and targets (numpy, memmap or dask).

        Parameters
        ----------
        theta : array (n_samples, n_features)
        y : array (n_samples, n_targets)
        trajectory_ids : array (n_samples,), optional
            Label of each row's trajectory; each trajectory's rows must be
            contiguous. Default: one trajectory.
        sample_weight : array (n_samples,), optional
        max_lag : int, optional
        chunk_size : int
            Rows read at a time (memory is bounded by ``chunk_size`` rows).
        """
        n, f = _shape2d("theta", theta)
        n_y = y.shape[0] if np.ndim(y) >= 1 else 0
        t = 1 if np.ndim(y) == 1 else y.shape[1]
        if n_y != n:
            raise ValueError(f"theta has {n} rows but y has {n_y}")
        chunk_size = _check_chunk_size(chunk_size)
        starts = _trajectory_starts(trajectory_ids, n)
        w = None if sample_weight is None else check_sample_weight(sample_weight, n)
        stats = cls(f, t, max_lag)
        bounds = np.r_[starts, n]
        for a0, b0 in zip(bounds[:-1], bounds[1:], strict=True):
            for a in range(a0, b0, chunk_size):
                b = min(a + chunk_size, b0)
                stats.update(
                    np.asarray(theta[a:b]),
                    np.asarray(y[a:b]),
                    new_trajectory=(a == a0),
                    sample_weight=None if w is None else w[a:b],
                )
        return stats

    @classmethod
    def from_trajectories(
        cls,
        trajectories,
        t,
        library,
        differentiation_method=None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        max_lag: int | None = None,
        smoothed: bool = True,
        progress: bool = False,
    ) -> SufficientStatistics:
        """Statistics of ``library(x)`` and ``dx/dt``, reading trajectories in chunks.

        Parameters
        ----------
        trajectories : array (n_times, n) or list of arrays
            numpy arrays, ``np.memmap`` files or ``dask.array`` arrays. With
            dask arrays the chunks are processed as dask tasks (on a
            ``dask.distributed`` cluster when a ``Client`` is active) and the
            partial statistics are merged in a tree.
        t : float, array (n_times,), or list of those (one per trajectory)
            Time step or sample times.
        library : pysindy feature library or Monomials
            A pysindy library is cloned and fitted on the first rows.
        differentiation_method : pysindy differentiation object, optional
            Default ``ps.SmoothedFiniteDifference()`` (as in symsindy's fits).
            ``FiniteDifference`` and ``SmoothedFiniteDifference`` with the
            Savitzky-Golay smoother are computed chunk by chunk with exact
            overlap; any other method (or periodic differences) is applied to
            whole trajectories.
        chunk_size : int
            Rows per chunk; peak memory is about ``chunk_size * n_features``
            floats per chunk in flight.
        max_lag : int, optional
        smoothed : bool, default True
            Evaluate the library on the smoothed states, as ``ps.SINDy.fit``
            does (when the method smooths); False uses the raw states.
        progress : bool
            Show a progress bar over chunks (sequential input).

        Rows whose derivative is not finite (``drop_endpoints=True``) are
        skipped, as in ``ps.SINDy``.
        """
        import pysindy as ps

        trajs = _trajectory_list(trajectories)
        times = _time_list(t, trajs)
        diff = differentiation_method or ps.SmoothedFiniteDifference()
        chunk_size = _check_chunk_size(chunk_size)
        lib = _fitted_library(library, trajs[0])
        probe = _evaluate(lib, np.zeros((1, trajs[0].shape[1])))
        n_features = probe.shape[1]
        n_targets = trajs[0].shape[1]
        halo = differentiation_halo(diff)
        tasks = [
            (k, a, b)
            for k, tr in enumerate(trajs)
            for a, b in _chunk_bounds(len(tr), chunk_size, halo)
        ]
        args = (diff, lib, smoothed, n_features, n_targets, max_lag)

        def chunk(k, a, b):
            lo, hi = _window(len(trajs[k]), a, b, halo)
            t_win = times[k] if np.ndim(times[k]) == 0 else times[k][lo:hi]
            return trajs[k][lo:hi], t_win, a - lo, b - lo, a == 0

        if any(_is_dask(tr) for tr in trajs):
            import dask

            task = dask.delayed(_chunk_statistics)
            parts = [task(*chunk(k, a, b), *args) for k, a, b in tasks]
            return dask.compute(_tree_merge(parts))[0]
        from tqdm.auto import tqdm

        stats = cls(n_features, n_targets, max_lag)
        for k, a, b in tqdm(tasks, disable=not progress, desc="chunks"):
            stats._merge_into(_chunk_statistics(*chunk(k, a, b), *args))
        return stats


# ---------------------------------------------------------------- helpers
def differentiation_halo(method) -> int | None:
    """Rows of context each side of a chunk for exact derivatives, or None.

    ``None`` means the method is not local (or not known to be): whole
    trajectories are then differentiated at once.

    Examples
    --------
    >>> import pysindy as ps
    >>> differentiation_halo(ps.FiniteDifference())
    4
    >>> differentiation_halo(ps.SmoothedFiniteDifference())
    15
    """
    import pysindy as ps
    from scipy.signal import savgol_filter

    if not isinstance(method, ps.FiniteDifference) or method.periodic:
        return None
    # Interior values use n_stencil points, the one-sided ones at the ends
    # n_stencil_forward; one more row keeps clear of either.
    halo = max(method.n_stencil, method.n_stencil_forward) + 1
    if isinstance(method, ps.SmoothedFiniteDifference):
        if method.smoother is not savgol_filter:
            return None
        mode = method.smoother_kws.get("mode", "interp")
        if mode != "interp":
            return None
        halo += int(method.smoother_kws.get("window_length", 11))
    return halo


def _chunk_bounds(n_rows: int, chunk_size: int, halo: int | None):
    if halo is None:
        return [(0, n_rows)]
    return [(a, min(a + chunk_size, n_rows)) for a in range(0, n_rows, chunk_size)]


def _window(n_rows: int, a: int, b: int, halo: int | None) -> tuple[int, int]:
    """Rows a chunk ``a:b`` reads: the chunk and its halo, inside the trajectory."""
    if halo is None:
        return 0, n_rows
    return max(0, a - halo), min(n_rows, b + halo)


def _chunk_statistics(*args):
    """Statistics of rows ``a:b`` of a trajectory window, differentiated whole.

    Arguments as :func:`_chunk_statistics_serial`.
    """
    # Chunks are small and may run in parallel: threaded BLAS only contends.
    with single_blas_thread():
        return _chunk_statistics_serial(*args)


def _chunk_statistics_serial(
    window,
    t_win,
    a,
    b,
    starts_trajectory,
    diff,
    lib,
    smoothed,
    n_features,
    n_targets,
    max_lag,
):
    x = check_finite("trajectory", np.asarray(window))
    method = copy.deepcopy(diff)  # differentiation stores state (smoothed_x_)
    xdot = np.asarray(method(x, t_win))
    states = x
    if smoothed and getattr(method, "smoothed_x_", None) is not None:
        states = np.asarray(method.smoothed_x_)
    xdot, states = xdot[a:b], states[a:b]
    finite = np.all(np.isfinite(xdot), axis=1)
    if not finite.all():  # endpoints dropped by the method: only at true ends
        xdot, states = xdot[finite], states[finite]
    stats = SufficientStatistics(n_features, n_targets, max_lag)
    return stats.update(_evaluate(lib, states), xdot, new_trajectory=starts_trajectory)


def _tree_merge(parts):
    import dask

    merge = dask.delayed(SufficientStatistics.merge)
    while len(parts) > 1:
        merged = [merge(parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]
        if len(parts) % 2:
            merged.append(parts[-1])
        parts = merged
    return parts[0]


def _last(rows: np.ndarray, k: int) -> np.ndarray:
    """The last ``k`` rows (none for ``k = 0``)."""
    return rows[max(0, len(rows) - k) :] if k > 0 else rows[:0]


def _is_dask(arr) -> bool:
    return type(arr).__module__.startswith("dask.")


def _shape2d(name, arr) -> tuple[int, int]:
    shape = getattr(arr, "shape", None)
    if shape is None or len(shape) != 2:
        raise ValueError(f"{name} must be a 2-D array (n_samples, n_columns)")
    return int(shape[0]), int(shape[1])


def _check_chunk_size(chunk_size) -> int:
    if int(chunk_size) != chunk_size or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size}")
    return int(chunk_size)


def _trajectory_starts(trajectory_ids, n: int) -> np.ndarray:
    if trajectory_ids is None:
        return np.array([0]) if n else np.zeros(0, dtype=int)
    ids = np.asarray(trajectory_ids)
    if ids.shape != (n,):
        raise ValueError(
            f"trajectory_ids must have shape ({n},), one label per row, got {ids.shape}"
        )
    starts = np.r_[0, np.flatnonzero(ids[1:] != ids[:-1]) + 1] if n else ids[:0]
    if len(starts) != len(np.unique(ids)):
        raise ValueError(
            "trajectory_ids: the rows of each trajectory must be contiguous"
        )
    return starts


def _trajectory_list(trajectories) -> list:
    trajs = (
        list(trajectories) if isinstance(trajectories, list | tuple) else [trajectories]
    )
    if not trajs:
        raise ValueError("trajectories is empty")
    n = None
    for k, tr in enumerate(trajs):
        if not hasattr(tr, "shape"):
            tr = trajs[k] = np.asarray(tr, dtype=float)
        if len(tr.shape) != 2:
            raise ValueError(
                f"each trajectory must be (n_times, n_states), got {tr.shape}"
            )
        if n is not None and tr.shape[1] != n:
            raise ValueError("all trajectories must have the same number of states")
        n = tr.shape[1]
    return trajs


def _time_list(t, trajs) -> list:
    times = list(t) if isinstance(t, list | tuple) else [t] * len(trajs)
    if len(times) != len(trajs):
        raise ValueError(
            f"t: got {len(times)} time arrays for {len(trajs)} trajectories"
        )
    for k, (ti, tr) in enumerate(zip(times, trajs, strict=True)):
        if np.ndim(ti) == 0:
            if not float(ti) > 0:
                raise ValueError(f"t must be a positive time step, got {ti}")
        elif np.shape(ti) != (tr.shape[0],):
            raise ValueError(
                f"t for trajectory {k} must have shape ({tr.shape[0]},), "
                f"got {np.shape(ti)}"
            )
    return times


def _fitted_library(library, first):
    from .polynomials import Monomials

    if isinstance(library, Monomials):
        return library
    from sklearn.base import clone

    if not hasattr(library, "transform"):
        raise TypeError(
            "library must be a pysindy feature library or Monomials, got "
            f"{type(library).__name__}"
        )
    lib = clone(library)
    return lib.fit(np.asarray(first[: min(len(first), 10)], dtype=float))


def _evaluate(lib, x) -> np.ndarray:
    from .polynomials import Monomials

    if isinstance(lib, Monomials):
        return lib.evaluate(x)
    return np.asarray(lib.transform(x))


def dask_array_from_npy(path, chunk_rows: int = DEFAULT_CHUNK_SIZE):
    """A ``dask.array`` over a ``.npy`` file, each block read by memory-mapping.

    Every task opens the file itself, so nothing but the block travels between
    processes (``da.from_array`` on a memmap would ship the whole array).

    Parameters
    ----------
    path : str or Path
        A 2-D ``.npy`` file.
    chunk_rows : int
    """
    import dask
    import dask.array as da

    head = np.load(path, mmap_mode="r")
    shape, dtype = head.shape, head.dtype
    del head
    chunk_rows = _check_chunk_size(chunk_rows)

    def read(a, b):
        return np.array(np.load(path, mmap_mode="r")[a:b])

    blocks = [
        da.from_delayed(
            dask.delayed(read)(a, min(a + chunk_rows, shape[0])),
            shape=(min(a + chunk_rows, shape[0]) - a,) + tuple(shape[1:]),
            dtype=dtype,
        )
        for a in range(0, shape[0], chunk_rows)
    ]
    return da.concatenate(blocks, axis=0)
