"""Shared fixtures: generated image trees, the shared data folder, and a CLI runner."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from s3server import S3, s3_server

REPO = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    # A suite started in the background (nohup, "&" in a script) inherits SIGINT ignored, and
    # so would every picdup process the tests start: the Ctrl-C tests would then find their
    # apply or scan running to its end. A signal that is caught (not ignored) is back to the
    # default in a child after exec, so catching it here gives the children a working Ctrl-C.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def shared_data_dir() -> Path | None:
    """``$PICDUP_DATA`` or ``../shared/data`` beside the repository, when present."""
    env = os.environ.get("PICDUP_DATA")
    candidate = Path(env) if env else REPO.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


@pytest.fixture(autouse=True)
def isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test (and every CLI it runs) uses a fresh cache folder, never the user's."""
    folder = tmp_path_factory.mktemp("picdup-cache")
    monkeypatch.setenv("PICDUP_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def full_decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files decoded in full for pixel digests during the test, in this
    process or on its worker threads (the decodes still run)."""
    import picdup.engine.local as local

    decoded: list[str] = []
    real = local._pixel_digest_or_none

    def counting(path: str, max_pixels: int) -> str | None:
        decoded.append(Path(path).name)
        return real(path, max_pixels)

    monkeypatch.setattr(local, "_pixel_digest_or_none", counting)
    return decoded


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if path is None:
        pytest.skip("shared data not found: set PICDUP_DATA or put it at ../shared/data")
    return path


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m picdup ARGS`` in a real subprocess (no terminal), return the result."""

    def run(
        *args: str,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "PYTHONPATH": str(REPO / "src"), **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "picdup", *args],
            cwd=cwd or tmp_path,
            env=full_env,
            capture_output=True,
            text=True,
            input=input,
            timeout=300,
        )

    return run


@pytest.fixture(scope="module")
def s3() -> Iterator[S3]:
    """moto's S3 server on 127.0.0.1, one per test module that asks for it (its environment
    variables are set only while that module runs)."""
    with s3_server() as server:
        yield server
