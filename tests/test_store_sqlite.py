"""The SQLite store keeps every promise of the event-store port."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuko_flow.stores import SQLiteEventStore
from tuko_flow.testing import EventStoreContract


class TestSQLiteEventStore(EventStoreContract):
    """The shared contract, on a fresh SQLite file per test."""

    @pytest.fixture(autouse=True)
    def _tmp(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path

    def make_store(self) -> SQLiteEventStore:
        return SQLiteEventStore(self.tmp_path / "cases.sqlite3")


def test_every_connection_is_wal_and_synchronous_full(tmp_path: Path) -> None:
    """WAL journal and synchronous=FULL are set and read back on each connection."""
    store = SQLiteEventStore(tmp_path / "s.sqlite3")
    assert store.pragmas()["journal_mode"] == "wal"
    assert store.pragmas()["synchronous"] == 2
