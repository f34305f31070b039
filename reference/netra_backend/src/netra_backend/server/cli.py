"""`python -m netra_backend.server`: serve, or `create-user`.

    python -m netra_backend.server [--host 127.0.0.1] [--port 8000] [--db netra.db] [--dev-secret]
    python -m netra_backend.server create-user USERNAME [--db netra.db]

Secrets come from the environment only: `NETRA_JWT_SECRET` (or `--dev-secret`),
`NETRA_USER_PASSWORD` for `create-user` (else read from stdin),
`NETRA_BOOTSTRAP_USERS="alice:pw1,bob:pw2"` for users created at a first start
(`NETRA_BOOTSTRAP_KDF_N` lowers their hash cost: for public test-only passwords).
`NETRA_MIGRATION` selects the engine state (deprecated, ssot, partial:engine,...).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Mapping, Sequence

from netra_backend.server.body import DEFAULT_MAX_BODY
from netra_backend.server.config import DEFAULT_HOST, ConfigError, ServerConfig

PASSWORD_ENV = "NETRA_USER_PASSWORD"
EXIT_CONFIG = 2


def _serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m netra_backend.server",
        description="Serve netra_backend (login, health, threads, chat WebSocket). "
        "Also: `create-user USERNAME`.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="bind address (default loopback)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--db", default="netra.db", help="SQLite file (created if missing)")
    parser.add_argument(
        "--dev-secret",
        action="store_true",
        help="without NETRA_JWT_SECRET, sign tokens with a random throwaway secret",
    )
    parser.add_argument("--token-ttl", type=float, default=3600.0, help="token lifetime, s")
    parser.add_argument("--drain-timeout", type=float, default=15.0, help="shutdown bound, s")
    parser.add_argument(
        "--llm-latency", type=float, default=0.0, help="simulated LLM latency per call, s"
    )
    parser.add_argument(
        "--db-synchronous",
        default="normal",
        help="SQLite synchronous level: normal (default; WAL-safe against crashes) or full "
        "(also against power loss, ~6 ms per commit)",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=DEFAULT_MAX_BODY,
        help=f"largest HTTP request body accepted, bytes (default {DEFAULT_MAX_BODY}); "
        "larger ones get 413 before they are read",
    )
    parser.add_argument("--log-level", default="info")
    return parser


def _user_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m netra_backend.server create-user",
        description=f"Create a user; the password comes from {PASSWORD_ENV} or stdin.",
    )
    parser.add_argument("username")
    parser.add_argument("--db", default="netra.db")
    return parser


def _read_password(environ: Mapping[str, str]) -> str:
    password = environ.get(PASSWORD_ENV)
    if password:
        return password
    if sys.stdin.isatty():
        return getpass.getpass("password: ")
    return sys.stdin.readline().rstrip("\r\n")


def create_user(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    from netra_backend.server.users import UserError, UserStore

    args = _user_parser().parse_args(argv)
    try:
        user_id = UserStore(args.db).create_user(args.username, _read_password(environ))
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    print(f"created user {args.username} ({user_id}) in {args.db}")
    return 0


def load_config(args: argparse.Namespace, environ: Mapping[str, str]) -> ServerConfig:
    from netra_backend.server.config import (
        check_max_body,
        check_synchronous,
        load_migration,
        load_secret,
    )
    from netra_backend.server.users import (
        BOOTSTRAP_COST_ENV,
        BOOTSTRAP_ENV,
        UserError,
        parse_bootstrap,
        parse_kdf_n,
    )

    bootstrap = environ.get(BOOTSTRAP_ENV, "")
    try:
        parse_bootstrap(bootstrap)
        bootstrap_kdf_n = parse_kdf_n(environ.get(BOOTSTRAP_COST_ENV, ""))
    except UserError as exc:
        raise ConfigError(str(exc)) from exc
    return ServerConfig(
        db_path=args.db,
        jwt_secret=load_secret(environ, dev_secret=args.dev_secret),
        migration=load_migration(environ),
        token_ttl=args.token_ttl,
        drain_timeout=args.drain_timeout,
        llm_latency=args.llm_latency,
        db_synchronous=check_synchronous(args.db_synchronous),
        max_body_bytes=check_max_body(args.max_body_bytes),
        bootstrap_users=bootstrap,
        bootstrap_kdf_n=bootstrap_kdf_n,
    )


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    environ = os.environ if environ is None else environ
    if argv[:1] == ["create-user"]:
        return create_user(argv[1:], environ)
    args = _serve_parser().parse_args(argv)
    try:
        config = load_config(args, environ)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    from netra_backend.app.core.migration import set_process_migration
    from netra_backend.server.runner import serve

    # The runs use the configured state through a context variable; the process default
    # is set too so that anything outside a run agrees with /health.
    set_process_migration(config.migration)
    print(
        f"netra_backend server: http://{args.host}:{args.port} migration={config.migration.spec} "
        f"db={args.db}",
        file=sys.stderr,
        flush=True,
    )
    return serve(config, host=args.host, port=args.port, log_level=args.log_level)
