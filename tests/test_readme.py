"""The README's code runs as written."""

import re
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


def test_readme_starts_with_the_two_commands():
    text = README.read_text()
    commands = re.findall(r"```bash\n(.*?)```", text, re.S)[:2]
    assert "symsindy demo" in commands[0] and "pip install -e" in commands[0]
    assert "pytest" in commands[1]
    ci = (README.parent / ".ci" / "run").read_text()
    assert commands[1].strip() in ci


def test_quickstart_and_enforce_snippets_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    namespace = {}
    exec(blocks[0], namespace)  # quickstart: discover then enforce
    exec(blocks[1], namespace)  # a group with continuous and discrete parts
    assert namespace["found"].dim == 1
    assert namespace["model"].optimizer.equivariance_residual() < 1e-10
    assert namespace["group"].order == 2
    assert "rotation" in capsys.readouterr().out
