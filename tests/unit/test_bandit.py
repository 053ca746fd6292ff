"""bandit (static security check) over the portal package: clean at medium severity and above.

Part of ``make test``. A finding is fixed, or, where it is truly a false positive, marked on its
line with ``# nosec BXXX`` and the reason in a comment next to it."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_bandit_finds_nothing_at_medium_severity_or_above():
    pytest.importorskip("bandit", reason="bandit is in the test extras: pip install -e '.[test]'")
    result = subprocess.run(
        [sys.executable, "-m", "bandit", "-r", "portal", "-ll", "-q", "-f", "custom",
         "--msg-template", "{relpath}:{line} {test_id} [{severity}] {msg}"],
        cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
