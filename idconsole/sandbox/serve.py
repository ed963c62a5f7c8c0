"""`idconsole sandbox serve` / `python -m idconsole.sandbox.serve`: the sandbox as a real HTTP server.

Prints exactly one line on stdout once uvicorn is accepting connections:
`idconsole sandbox listening on http://HOST:PORT` (the real port, also with `--port 0`).
Exit codes: 0 after a clean shutdown, 1 when the server cannot start (port taken), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys

from idconsole.sandbox.config import SandboxConfig


class ArgumentError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise ArgumentError(message)


MAX_RATE_COUNT = 1_000_000_000
RATE_SECONDS = (0.001, 86_400.0)


def _rate(text: str) -> tuple[int, float]:
    """N/SECONDS: a whole N from 1 to a billion per a finite window from a millisecond to a day. Anything
    else (`10/inf`, a 24-digit N, `0/1`, `-1/5`) would only fail later, inside a request."""
    count, sep, seconds = text.strip().partition("/")
    try:
        n, s = int(count), float(seconds)
    except ValueError:
        n, s = 0, 0.0
    if not sep or not 1 <= n <= MAX_RATE_COUNT or not RATE_SECONDS[0] <= s <= RATE_SECONDS[1]:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not N/SECONDS (e.g. 1500/30): N a whole number from 1 to {MAX_RATE_COUNT:,}, "
            f"SECONDS from {RATE_SECONDS[0]:g} to {RATE_SECONDS[1]:g}"
        )
    return n, s


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a probability between 0 and 1")
    return value


def _non_negative(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a non-negative integer")
    return int(text)


MAX_LATENCY_MS = 600_000


def _latency(text: str) -> int:
    value = _non_negative(text)
    if value > MAX_LATENCY_MS:
        raise argparse.ArgumentTypeError(f"{text!r} is more than {MAX_LATENCY_MS:,} ms (ten minutes)")
    return value


def _port(text: str) -> int:
    value = _non_negative(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)")
    return value


def build_parser() -> argparse.ArgumentParser:
    d = SandboxConfig()
    p = _Parser(
        prog="idconsole sandbox serve", description="Serve the Amplitude/Mixpanel emulator over HTTP."
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_port, default=8765, help="0 picks a free port")
    p.add_argument(
        "--data", metavar="FILE", help="initial state (a /_sandbox/state JSON) instead of the demo data"
    )
    p.add_argument("--no-demo-data", action="store_true", help="start with no users")
    p.add_argument("--state", metavar="FILE",
                   help="keep the world in FILE across restarts and processes (default: in memory only)")
    p.add_argument("--latency-ms", type=_latency, default=0)
    p.add_argument("--fail-rate", type=_fraction, default=0.0, help="probability that a request fails")
    p.add_argument("--seed", type=int, default=0, help="seed of the fail-rate random generator")
    p.add_argument("--usermap-rate", type=_rate, default=d.usermap_rate, metavar="N/SECONDS")
    p.add_argument("--usersearch-rate", type=_rate, default=d.usersearch_rate, metavar="N/SECONDS")
    p.add_argument("--profile-rate", type=_rate, default=d.profile_rate, metavar="N/SECONDS")
    p.add_argument("--engage-rate", type=_rate, default=None, metavar="N/SECONDS", help="off unless given")
    p.add_argument("--no-usermap-entitlement", action="store_true",
                   help="act as a project without User Mapping (the Portfolio add-on): 403 on /usermap")
    p.add_argument("--api-key", default=d.api_key)
    p.add_argument("--secret-key", default=d.secret_key)
    p.add_argument("--mixpanel-token", default=d.mixpanel_token)
    p.add_argument("--mixpanel-api-secret", default=d.mixpanel_api_secret)
    p.add_argument("--sa-username", default=d.sa_username)
    p.add_argument("--sa-secret", default=d.sa_secret)
    p.add_argument("--project-id", default=d.project_id)
    return p


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    return SandboxConfig(
        api_key=args.api_key, secret_key=args.secret_key, mixpanel_token=args.mixpanel_token,
        mixpanel_api_secret=args.mixpanel_api_secret, sa_username=args.sa_username, sa_secret=args.sa_secret,
        project_id=args.project_id, latency_ms=args.latency_ms, fail_rate=args.fail_rate, seed=args.seed,
        usermap_rate=args.usermap_rate, usersearch_rate=args.usersearch_rate, profile_rate=args.profile_rate,
        engage_rate=args.engage_rate, demo_data=not args.no_demo_data, data_file=args.data,
        usermap_entitlement=not args.no_usermap_entitlement,
        state_file=args.state,
    )  # fmt: skip


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


async def _serve(app: object, sock: socket.socket, url: str) -> None:
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    if server.started:
        print(f"idconsole sandbox listening on {url}", flush=True)
    await task


def _notice(sentence: str) -> None:
    print(f"idconsole sandbox serve: {sentence}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except ArgumentError as exc:  # one sentence, not a usage dump
        print(f"idconsole sandbox serve: error: {exc}; see `idconsole sandbox serve --help`.", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    from idconsole.sandbox.app import create_app

    try:
        app = create_app(config_from_args(args), on_notice=_notice)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        print(f"idconsole sandbox serve: error: cannot load --data {args.data!r}: {exc}", file=sys.stderr)
        return 2
    except RecursionError:
        print(f"idconsole sandbox serve: error: cannot load --data {args.data!r}: it is nested too deeply.",
              file=sys.stderr)
        return 2
    try:
        sock = _bind(args.host, args.port)
    except OSError as exc:
        print(
            f"idconsole sandbox serve: error: cannot listen on {args.host}:{args.port}: {exc}",
            file=sys.stderr,
        )
        return 1
    host, port = sock.getsockname()[:2]
    url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    try:
        asyncio.run(_serve(app, sock, url))
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
