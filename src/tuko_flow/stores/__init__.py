"""Event-store adapters. The in-memory store is the default and the reference."""

from ._memory import InMemoryEventStore

__all__ = ["InMemoryEventStore"]
