"""Every example runs end to end (quick mode) so none can rot."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted(
    p
    for p in (Path(__file__).parent.parent / "examples").glob("*.py")
    if not p.name.startswith("_")
)


def test_examples_are_found():
    assert {p.stem for p in EXAMPLES} >= {
        "enforce",
        "discover",
        "promote",
        "sklearn_pipeline",
    }


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_quickly(script, tmp_path):
    proc = subprocess.run(
        [sys.executable, script.name, "--quick", "--out", str(tmp_path)],
        cwd=script.parent,
        capture_output=True,
        text=True,
        timeout=300,
        env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(proc.stdout) > 100
