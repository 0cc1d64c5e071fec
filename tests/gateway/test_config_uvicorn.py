"""Unusable settings stop the gateway however it is started, ``uvicorn --factory`` (the README's way)
included: one line per problem on stderr naming the variable, no traceback, and no server left
running. A single process exits with status 2, as ``serve`` and ``check-config`` do; under
``--workers`` each worker ends with uvicorn's start-up failure status, which stops the supervisor
instead of starting the same failing worker again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBLEM = "patientoverblik: configuration error: PATIENTOVERBLIK_FOO: not a setting (did you mean PATIENTOVERBLIK_SOR?)"


@pytest.mark.parametrize("workers", [1, 2])
def test_uvicorn_factory_with_an_unusable_setting_stops_in_one_line(tmp_path: Path, workers: int) -> None:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.upper().startswith("PATIENTOVERBLIK_")},
        "PATIENTOVERBLIK_FOO": "1",
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "gateway.app:create_app"]
    command += ["--host", "127.0.0.1", "--port", "0", "--workers", str(workers)]

    ended = subprocess.run(  # noqa: S603 - the test's own command
        command, env=environment, cwd=tmp_path, capture_output=True, timeout=60, check=False
    )

    stderr = ended.stderr.decode()
    ours = [line for line in stderr.splitlines() if line.startswith("patientoverblik:")]
    assert "Traceback" not in stderr
    assert ours == [PROBLEM] * workers
    if workers == 1:
        assert ended.returncode == 2
        assert stderr.splitlines() == [PROBLEM]
    else:
        assert "failed to start, stopping the parent process" in stderr
