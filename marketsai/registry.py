"""Name -> class registries for markets, agents, learners and interventions.

Why: specs are plain data; names in a file are resolved here. Registries are small and
loud: a duplicate name or a wrong base class raises; a failed lookup lists what exists
and the nearest name. A user's class is reachable without touching the package, by
import path (``mypkg.markets:MyMarket``) or by an entry point in the group
``marketsai.<kind>`` (e.g. ``marketsai.markets``).
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from marketsai.errors import SpecError
from marketsai.params import did_you_mean

T = TypeVar("T")


class Registry(Generic[T]):
    """A loud name -> class mapping.

    Examples
    --------
    >>> class Base: pass
    >>> reg = Registry("widgets", Base)
    >>> @reg.register("round")
    ... class Round(Base): pass
    >>> reg.get("round") is Round
    True
    >>> reg.get("rund")
    Traceback (most recent call last):
    ...
    marketsai.errors.SpecError: <root> = 'rund': unknown widgets type; did you mean 'round'? (allowed: round, or an import path 'package.module:Class')
    """

    def __init__(self, kind: str, base: type):
        self.kind = kind
        self.base = base
        self._items: dict[str, type] = {}
        self._entry_points_loaded = False
        self._broken: dict[str, str] = {}  # entry point name -> why it did not load
        self._generation = 0  # counts changes of _items: the key of caches built from them

    @property
    def generation(self) -> int:
        """A number that changes whenever a class is registered or forgotten: what a cache
        of something computed from the registered classes is keyed on (entry points are
        loaded first, so reading it settles them)."""
        self._load_entry_points()
        return self._generation

    def register(self, name: str, cls: type | None = None):
        """Register ``cls`` under ``name``; usable as a decorator."""
        def deco(c: type) -> type:
            if not (isinstance(c, type) and issubclass(c, self.base)):
                raise TypeError(f"{c!r} is not a subclass of {self.base.__name__}; "
                                f"cannot register it as a {self.kind} type")
            if name in self._items and self._items[name] is not c:
                raise ValueError(f"{self.kind} type {name!r} is already registered "
                                 f"to {self._items[name].__module__}.{self._items[name].__qualname__}")
            if name not in self._items:
                self._items[name] = c
                self._generation += 1
            return c
        return deco(cls) if cls is not None else deco

    def __contains__(self, name) -> bool:
        """Whether ``name`` is registered already (entry points are not loaded for this)."""
        return name in self._items

    def unregister(self, name: str) -> None:
        """Forget ``name`` (a throwaway class of a test or a notebook); unknown names pass."""
        if self._items.pop(name, None) is not None:
            self._generation += 1

    def names(self) -> list[str]:
        self._load_entry_points()
        return sorted(self._items)

    def get(self, name: str, path: str = "") -> type:
        """Resolve a registered name or an import path ``module:Class``."""
        if not isinstance(name, str) or not name:
            raise SpecError(f"{self.kind} type must be a non-empty string", path=path,
                            value=name, allowed=", ".join(self.names()))
        if ":" in name:
            return self._import(name, path)
        self._load_entry_points()
        if name in self._items:
            return self._items[name]
        if name in self._broken:
            raise SpecError(f"the {self.kind} plug-in {name!r} is installed but cannot be loaded "
                            f"({self._broken[name]})", path=path, value=name,
                            allowed=", ".join(self.names()) + ", or fix or uninstall the plug-in")
        hint = did_you_mean(name, self._items, cutoff=0.6)
        raise SpecError(f"unknown {self.kind} type{hint}", path=path, value=name,
                        allowed=", ".join(self.names()) + ", or an import path 'package.module:Class'")

    def _import(self, target: str, path: str) -> type:
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise SpecError(f"cannot import module {module_name!r}: {exc}", path=path,
                            value=target, allowed="an importable 'package.module:Class'") from None
        cls = getattr(module, attr, None)
        if not (isinstance(cls, type) and issubclass(cls, self.base)):
            raise SpecError(f"{target!r} is not a {self.base.__name__} subclass", path=path,
                            value=target, allowed=f"a subclass of marketsai {self.base.__name__}")
        return cls

    def _load_entry_points(self) -> None:
        """Register the entry points of group ``marketsai.<kind>``. One that fails to load
        (a plug-in whose own imports are missing) is remembered with its reason, said when
        its name is asked for, and does not hide the others."""
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        for ep in entry_points(group=f"marketsai.{self.kind}"):
            if ep.name in self._items:
                continue
            try:
                cls = ep.load()
            except Exception as exc:  # noqa: BLE001 -- reported by get(), with the reason
                self._broken[ep.name] = f"{ep.value}: {type(exc).__name__}: {exc}"
                continue
            if ep.name not in self._items:
                self.register(ep.name, cls)
