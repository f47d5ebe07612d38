"""Event-store adapters.

* :class:`InMemoryEventStore` — the default and the reference implementation.
* :class:`SQLiteEventStore` — the embedded, durable default for a file path.
* ``tuko_flow.stores.postgres.PostgresEventStore`` — for several application servers
  sharing one database (needs the ``postgres`` extra: ``pip install tuko-flow[postgres]``).
"""

from ._memory import InMemoryEventStore
from ._sqlite import SQLiteEventStore

__all__ = ["InMemoryEventStore", "SQLiteEventStore"]
