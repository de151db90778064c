"""The store contract on every store: memory, Redis and Redis Cluster, sync and async."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import VARIANTS, MakeStore
from .contract import StoreContract


class TestStoreContract(StoreContract):
    @pytest.fixture(params=VARIANTS)
    def store(self, request: pytest.FixtureRequest, make_store: MakeStore) -> Any:
        return make_store(request.param)
