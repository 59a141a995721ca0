"""A real S3 endpoint for tests: moto's server on 127.0.0.1, fake credentials in the environment.

Everything that talks to S3 (this process, Dask workers it starts, CLI subprocesses) finds the
endpoint through ``AWS_ENDPOINT_URL``, the way a user points picdup at MinIO or another store.
"""

from __future__ import annotations

import atexit
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

__all__ = ["S3", "s3_server", "upload_tree"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class S3:
    """The running server: its endpoint, the environment that reaches it, and a filesystem."""

    def __init__(self, endpoint: str, env: dict[str, str]) -> None:
        self.endpoint = endpoint
        self.env = env

    @property
    def fs(self) -> Any:
        import s3fs

        return s3fs.S3FileSystem(
            key="testing",
            secret="testing",
            endpoint_url=self.endpoint,
            skip_instance_cache=True,
        )

    def new_bucket(self) -> str:
        name = f"picdup-{uuid.uuid4().hex[:12]}"
        self.fs.mkdir(name)
        return name


_SHARED: list[S3] = []


@contextmanager
def s3_server() -> Iterator[S3]:
    """moto's threaded S3 server on a free loopback port, with the environment set.

    One server serves the whole test session (started by the first module that asks, stopped at
    exit): fsspec keeps one filesystem per set of options for the life of a process, so a
    second server on another port would not be seen by code that already listed the first.
    """
    pytest.importorskip("s3fs")
    server_mod = pytest.importorskip("moto.server")
    if not _SHARED:
        port = _free_port()
        server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        atexit.register(server.stop)
        endpoint = f"http://127.0.0.1:{port}"
        env = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": endpoint,
        }
        os.environ.update(env)
        _SHARED.append(S3(endpoint, env))
    yield _SHARED[0]


def upload_tree(s3: S3, local: Path, bucket: str, prefix: str) -> str:
    """Copy every file under ``local`` to ``s3://bucket/prefix/…``; returns the root URL."""
    fs = s3.fs
    for path in sorted(local.rglob("*")):
        if path.is_file():
            fs.put_file(str(path), f"{bucket}/{prefix}/{path.relative_to(local).as_posix()}")
    return f"s3://{bucket}/{prefix}"
