"""Shared fixtures: real SQLite and PostgreSQL databases, settings, the converted bundled model.

PostgreSQL: each test that asks for it gets a fresh database on the server at
EVALBOARD_TEST_POSTGRES (default postgresql+psycopg://root@127.0.0.1:5432/postgres), created from
scratch, migrated, and dropped afterwards. There is no mocked database anywhere.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.config import Settings
from app.migrate import upgrade

REPO_ROOT = Path(__file__).resolve().parents[1]
# Converted once per checkout and shared by every test (the GGUF de-quantization takes ~30 s).
SHARED_MODEL_CACHE = Path(
    os.environ.get("EVALBOARD_TEST_MODEL_CACHE", REPO_ROOT / ".evalboard" / "test-models")
)
ADMIN_URL = os.environ.get("EVALBOARD_TEST_POSTGRES", "postgresql+psycopg://root@127.0.0.1:5432/postgres")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _create_postgres_database() -> tuple[str, str]:
    name = f"evalboard_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(name: str) -> None:
    from app.db import engine_for

    engine_for.cache_clear()  # close pooled connections held by the code under test
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    name, url = _create_postgres_database()
    upgrade(url)
    yield url
    _drop_postgres_database(name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'evalboard.db'}"
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every test using this runs twice: on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'evalboard.db'}"
        upgrade(url)
        yield url
    else:
        name, url = _create_postgres_database()
        upgrade(url)
        yield url
        _drop_postgres_database(name)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url)


def make_settings(home: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "home": home,
        "database_url": database_url,
        "model_cache_dir": SHARED_MODEL_CACHE,
        "hub_offline": True,
        "worker_poll_seconds": 0.2,
        "worker_heartbeat_seconds": 0.5,
        "job_retry_backoff_seconds": 0.0,
        # Tests fire hundreds of requests a minute from one address; the tests of the rate limit
        # itself set their own.
        "rate_limit": "",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def settings_env(settings: Settings) -> dict[str, str]:
    """The same settings as EVALBOARD_* variables, for the real processes e2e tests start."""
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if value is not None:
            env[f"EVALBOARD_{name.upper()}"] = str(value)
    return env


@pytest.fixture(scope="session")
def converted_model_dir() -> Path:
    """The bundled model as a HF folder, converted at most once per checkout."""
    from benchmarks.bundled import BUNDLED_MODELS, ensure_converted

    return ensure_converted(BUNDLED_MODELS["smollm2-135m-instruct"], SHARED_MODEL_CACHE)
