"""`python -m bot keygen`: a new Fernet key for TOKEN_ENCRYPTION_KEY, printed alone."""

from __future__ import annotations

from cryptography.fernet import Fernet

from tests.cli_process import run_bot


def test_keygen_prints_a_fernet_key(tmp_path):
    result = run_bot(["keygen"], tmp_path)
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert len(result.stdout.strip().splitlines()) == 1
    token = Fernet(key.encode()).encrypt(b"x")
    assert Fernet(key.encode()).decrypt(token) == b"x"
    assert run_bot(["keygen"], tmp_path).stdout.strip() != key
