"""netra_backend.server.users: accounts in SQLite, created by command or bootstrap."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from netra_backend.server import auth
from netra_backend.server.users import UserError, UserStore, parse_bootstrap


def test_create_and_authenticate(tmp_path: Path) -> None:
    store = UserStore(str(tmp_path / "u.db"))
    user_id = store.create_user("alice", "pw-alice")
    assert user_id.startswith("usr_")
    assert store.authenticate("alice", "pw-alice") == user_id
    assert store.authenticate("alice", "pw-bob") is None
    assert store.authenticate("nobody", "pw-alice") is None
    assert store.username(user_id) == "alice"
    assert store.user_id("alice") == user_id
    # Only a hash is stored.
    rows = sqlite3.connect(tmp_path / "u.db").execute("SELECT * FROM server_users").fetchall()
    assert "pw-alice" not in repr(rows)


def test_duplicates_and_bad_names_are_refused(tmp_path: Path) -> None:
    store = UserStore(str(tmp_path / "u.db"))
    store.create_user("alice", "pw")
    with pytest.raises(UserError, match="'alice' already exists"):
        store.create_user("alice", "other")
    with pytest.raises(UserError, match="not allowed"):
        store.create_user("al ice", "pw")
    with pytest.raises(UserError, match="1-1024 characters"):
        store.create_user("bob", "")


def test_bootstrap_creates_missing_users_only(tmp_path: Path) -> None:
    store = UserStore(str(tmp_path / "u.db"))
    assert store.bootstrap("alice:pw1, bob:pw:with:colons,") == ["alice", "bob"]
    assert store.authenticate("bob", "pw:with:colons") is not None
    # A restart with a changed password does not reset an existing user.
    assert store.bootstrap("alice:changed,carol:pw3") == ["carol"]
    assert store.authenticate("alice", "pw1") is not None
    assert store.authenticate("alice", "changed") is None


@pytest.mark.parametrize(
    ("text", "error"),
    [("alice", "has no ':password'"), ("alice:", "1-1024 characters"), ("a b:pw", "not allowed")],
)
def test_bad_bootstrap_specs(text: str, error: str) -> None:
    with pytest.raises(UserError, match=error):
        parse_bootstrap(text)


def test_empty_bootstrap_is_nothing() -> None:
    assert parse_bootstrap("") == []
    assert parse_bootstrap(" , ") == []


def test_bootstrap_tolerates_another_server_creating_the_same_user(tmp_path: Path) -> None:
    db = str(tmp_path / "u.db")

    class RacedStore(UserStore):
        """Sees no alice at first, as if the other server created her just after the check."""

        looked = False

        def user_id(self, username: str) -> str | None:
            if not self.looked:
                self.looked = True
                UserStore(db).create_user(username, "their-password")
                return None
            return super().user_id(username)

    assert RacedStore(db).bootstrap("alice:my-password") == []
    assert UserStore(db).authenticate("alice", "their-password") is not None


def test_bootstrap_cost_is_the_default_unless_lowered_for_test_accounts(tmp_path: Path) -> None:
    from netra_backend.server.auth import SCRYPT_N
    from netra_backend.server.users import MIN_KDF_N, parse_kdf_n

    assert parse_kdf_n("") == SCRYPT_N
    assert parse_kdf_n("1024") == MIN_KDF_N
    for bad in ("1000", "512", str(SCRYPT_N * 2), "cheap"):
        with pytest.raises(UserError, match="power of two"):
            parse_kdf_n(bad)
    store = UserStore(str(tmp_path / "u.db"))
    assert store.bootstrap("alice:pw1", cost=MIN_KDF_N) == ["alice"]
    stored = (
        sqlite3.connect(tmp_path / "u.db")
        .execute("SELECT password_hash FROM server_users")
        .fetchone()[0]
    )
    # The cost travels with the hash, so the login checks it at the cost it was made with.
    assert stored.split("$")[1] == str(MIN_KDF_N)
    assert store.authenticate("alice", "pw1") is not None
    assert store.authenticate("alice", "pw2") is None


# --------------------------------------------------------------------------- login timing


def scrypt_calls(
    monkeypatch: pytest.MonkeyPatch, store: UserStore, username: str
) -> list[tuple[int, int, int]]:
    """The (n, r, p) of every scrypt one failed login of `username` runs."""
    calls: list[tuple[int, int, int]] = []
    real = auth._scrypt

    def spy(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
        calls.append((n, r, p))
        return real(password, salt, n, r, p)

    monkeypatch.setattr(auth, "_scrypt", spy)
    auth._dummy_hash.cache_clear()
    store.authenticate(username, "warm-the-dummy")  # the dummy hash is made once, not timed
    calls.clear()
    assert store.authenticate(username, "a-wrong-password") is None
    monkeypatch.undo()
    return calls


@pytest.mark.parametrize("cost", [2**10, auth.SCRYPT_N])
def test_an_unknown_name_runs_the_same_scrypt_as_a_known_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cost: int
) -> None:
    # Bootstrap accounts may use a cheaper cost: the dummy must follow it, or an unknown
    # name would take 16 times as long as a known one.
    store = UserStore(str(tmp_path / "users.db"))
    store.bootstrap("alice:right-password", cost=cost)
    known = scrypt_calls(monkeypatch, store, "alice")
    unknown = scrypt_calls(monkeypatch, store, "nobody-by-this-name")
    assert known == unknown == [(cost, auth.SCRYPT_R, auth.SCRYPT_P)]


def test_login_time_does_not_tell_which_names_exist(tmp_path: Path) -> None:
    store = UserStore(str(tmp_path / "users.db"))
    store.bootstrap("alice:right-password", cost=2**10)
    store.authenticate("nobody", "warm-the-dummy")
    known: list[float] = []
    unknown: list[float] = []
    # Interleaved, so the load of the shared cores falls on both sides alike, and
    # compared by their fastest runs: noise only ever adds time, so the minimum is the
    # cost of the work itself. Before the fix the ratio was about 15.
    for _ in range(61):
        for name, times in (("alice", known), ("nobody", unknown)):
            start = time.perf_counter()
            store.authenticate(name, "a-wrong-password")
            times.append(time.perf_counter() - start)
    ratio = min(unknown) / min(known)
    print(f"login time ratio unknown/known {ratio:.2f}")
    assert 0.5 < ratio < 2.0, ratio


def test_a_damaged_stored_cost_still_burns_a_check(tmp_path: Path) -> None:
    assert auth.hash_cost("scrypt$3$8$1$c2FsdA==$aGFzaA==") == (3, 8, 1)
    assert auth.hash_cost("md5$x") is None
    assert auth.hash_cost("scrypt$x$8$1$a$b") is None
    auth.burn_password_check("pw", (3, 8, 1))  # scrypt refuses n=3: the default cost is used
