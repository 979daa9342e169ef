"""The tracker store an agent holds, layer by layer: Rasa wraps the configured store.

Rasa 3.6 puts `FailSafeTrackerStore` around the store endpoints.yml names, and
`AwaitableTrackerStore` around it too when its methods are not all coroutines; both keep
the wrapped store in `_tracker_store`. Code that needs our store (the SMS connector's
message id check, the session size limit) walks every layer instead of assuming how many
there are; tests/test_store_layers.py fails if Rasa's wrapping stops being walkable.
"""

from __future__ import annotations

from typing import Any, List, Optional, Type, TypeVar

from rasa.core.tracker_store import TrackerStore

# Where a wrapper keeps the store it wraps (Rasa 3.6: `_tracker_store`).
WRAPPED_STORE_ATTRIBUTES = ("_tracker_store", "inner_tracker_store")

StoreT = TypeVar("StoreT")


def _wrapped(store: Any) -> Optional[TrackerStore]:
    for name in WRAPPED_STORE_ATTRIBUTES:
        inner = getattr(store, name, None)
        if isinstance(inner, TrackerStore):
            return inner
    return None


def layers(store: Any) -> List[Any]:
    """`store` and every store under it, outermost first (cycles stop the walk)."""
    out: List[Any] = []
    while store is not None and all(store is not seen for seen in out):
        out.append(store)
        store = _wrapped(store)
    return out


def find_layer(store: Any, kind: Type[StoreT]) -> Optional[StoreT]:
    """The outermost layer that is a `kind`, None if no layer is."""
    return next((layer for layer in layers(store) if isinstance(layer, kind)), None)


def describe(store: Any) -> str:
    """The layers' class names, outermost first (for log lines)."""
    return " > ".join(type(layer).__name__ for layer in layers(store))
