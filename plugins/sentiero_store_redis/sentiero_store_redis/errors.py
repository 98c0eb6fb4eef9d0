"""Redis failures as the store errors the core acts on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from redis import exceptions as rx

from sentiero_core.store import StoreError, StoreUnavailable

# What a retry may fix: the server is down, restarting, loading its data,
# failing over, or too slow to answer right now.
_TRANSIENT = (
    rx.ConnectionError,
    rx.TimeoutError,
    rx.BusyLoadingError,
    rx.ReadOnlyError,
    rx.TryAgainError,
    rx.ClusterDownError,
    ConnectionError,
    TimeoutError,
)


@contextmanager
def redis_errors(where: str) -> Iterator[None]:
    try:
        yield
    except rx.WatchError:
        raise
    except _TRANSIENT as exc:
        raise StoreUnavailable(f"redis at {where}: {type(exc).__name__}: {exc}") from exc
    except rx.RedisError as exc:
        raise StoreError(f"redis at {where}: {type(exc).__name__}: {exc}") from exc
