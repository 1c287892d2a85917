"""Private PostgreSQL (with PostGIS) and Mosquitto servers for the demo and the tests.

Used only when ``DATABASE_URL`` / ``MQTT_URL`` are unset. Each server lives in a
folder of its own, listens on a free loopback port, and is stopped by
``stop()`` (or leaving the ``with`` block). PostgreSQL refuses to run as root,
so as root the cluster is initialised and run as the ``postgres`` system user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from feeds.broker_auth import BrokerAuthPaths

PG_BIN = Path(os.environ.get("DM_PG_BIN", "/usr/lib/postgresql/15/bin"))
MOSQUITTO = os.environ.get("DM_MOSQUITTO_BIN", "/usr/sbin/mosquitto")
DEPLOY_MOSQUITTO_CONF = Path(__file__).resolve().parents[1] / "deploy/mosquitto/mosquitto.conf"
# Options that belong to the listener above them (mosquitto.conf(5)): they go
# with their listener when it is swapped, and away with it when it is dropped.
LISTENER_OPTIONS = frozenset(
    {"cafile", "certfile", "keyfile", "tls_version", "require_certificate"}
    | {"use_username_as_clientid"}
)


class ServiceError(RuntimeError):
    """A private server could not be started; the message says why and where to look."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout_s: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Block until 127.0.0.1:port accepts a connection, or raise ServiceError."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ServiceError(f"process exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise ServiceError(f"nothing listening on 127.0.0.1:{port} after {timeout_s:.0f} s")


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _run_as() -> pwd.struct_passwd | None:
    """The account to run PostgreSQL as: ``postgres`` when we are root, else ourselves."""
    return pwd.getpwnam("postgres") if os.geteuid() == 0 else None


def _reachable_by(user: pwd.struct_passwd, folder: Path) -> bool:
    probe = ["runuser", "-u", user.pw_name, "--", "test", "-x", str(folder)]
    return subprocess.run(probe, check=False).returncode == 0


class _Service:
    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError


class EmbeddedPostgres(_Service):
    """A throwaway PostgreSQL 15 cluster in ``folder`` on a free port (trust auth, loopback)."""

    def __init__(self, folder: Path, options: dict[str, str] | None = None) -> None:
        self.folder = folder.resolve()
        self.port = free_port()
        self.user = _run_as()
        self.options = options or {}
        self._scratch: Path | None = None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _cmd(self, *args: str) -> list[str]:
        prefix = ["runuser", "-u", self.user.pw_name, "--"] if self.user else []
        return [*prefix, *args]

    def _data_dir(self) -> Path:
        data = self.folder / "pg"
        if self.user and not _reachable_by(self.user, self.folder):
            # The folder is not traversable by the postgres account (a clone
            # under a private home, pytest's 0700 temp root): use /tmp instead.
            self._scratch = Path(tempfile.mkdtemp(prefix="dispatchmap-pg-"))
            self._scratch.chmod(0o755)
            data = self._scratch / "pg"
        return data

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.data = self._data_dir()
        self.data.mkdir(parents=True, exist_ok=True)
        if self.user:
            shutil.chown(self.data, self.user.pw_uid, self.user.pw_gid)
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists() and _alive(int(pid_file.read_text().split()[0] or 0)):
            raise ServiceError(
                f"a PostgreSQL is already running on {self.data} (another demo?); stop it, "
                "or give this one its own DM_STATE_DIR"
            )
        if not (self.data / "PG_VERSION").exists():
            self._check(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-sync",
                ]
            )
        self._pg_ctl("start")

    def _pg_ctl(self, action: str, *extra: str) -> None:
        # fsync off only risks data on an operating-system crash, acceptable for
        # a demo or test cluster. synchronous_commit stays on: with it off, a
        # server crash loses commits the ingest has already acknowledged to the
        # broker (seen here: one whole batch lost across an immediate restart).
        opts = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.data} -c fsync=off "
            f"-c full_page_writes=off -c max_connections=200"
        )
        # Later settings win: a base backup for a replica needs full_page_writes on.
        opts += "".join(f" -c {key}={value}" for key, value in self.options.items())
        self._check(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-o",
                opts,
                "-l",
                str(self.data / "server.log"),
                "-w",
                "-t",
                "60",
                *extra,
                action,
            ]
        )

    def start_replica_of(self, primary: EmbeddedPostgres) -> None:
        """Start as a hot standby streaming from ``primary`` (which must run
        with ``full_page_writes`` on): a base backup of it, then recovery."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.data = self._data_dir()
        self.data.mkdir(parents=True, exist_ok=True)
        if self.user:
            shutil.chown(self.data, self.user.pw_uid, self.user.pw_gid)
        self.data.chmod(0o700)
        backup = [str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port)]
        # -c fast: the default spread checkpoint kept the backup waiting minutes.
        self._check(
            [*backup, "-U", "postgres", "-D", str(self.data), "-R", "-X", "stream", "-c", "fast"]
        )
        self._pg_ctl("start")

    def restart(self, mode: str = "immediate") -> None:
        """Restart on the same port; ``immediate`` is a crash as far as clients see."""
        self._pg_ctl("restart", "-m", mode)

    def stop(self) -> None:
        if getattr(self, "data", None) is None:
            return
        subprocess.run(
            self._cmd(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"),
            check=False,
            capture_output=True,
        )
        self.data = None  # type: ignore[assignment]
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def _check(self, args: list[str]) -> None:
        done = subprocess.run(self._cmd(*args), check=False, capture_output=True, text=True)
        if done.returncode != 0:
            raise ServiceError(
                f"{args[0]} failed ({done.returncode}): {done.stderr.strip()}\n"
                f"is PostgreSQL 15 installed? run `make setup`"
            )


class EmbeddedMosquitto(_Service):
    """A private Mosquitto on a free loopback port, sized for bursts.

    Mosquitto's defaults (1,000 queued, 20 in flight per client) silently drop
    bursts to a slow subscriber and throttle acks-after-commit, so both are set.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def config(self) -> str:
        return "\n".join(
            [
                f"listener {self.port} 127.0.0.1",
                "allow_anonymous true",
                "persistence true",
                f"persistence_location {self.folder}/",
                "autosave_interval 5",
                "max_queued_messages 1000000",
                "max_inflight_messages 0",
                "max_keepalive 120",
                "log_dest stdout",
                "log_type error",
                "log_type warning",
                f"user {pwd.getpwuid(os.geteuid()).pw_name}",
                "",
            ]
        )

    def log_text(self) -> str:
        """What the broker has logged so far (its stdout and stderr)."""
        return (self.folder / "mosquitto.log").read_text(errors="replace")

    def start(self) -> None:
        if shutil.which(MOSQUITTO) is None:
            raise ServiceError(f"{MOSQUITTO} not found: run `make setup`")
        self.folder.mkdir(parents=True, exist_ok=True)
        conf = self.folder / "mosquitto.conf"
        conf.write_text(self.config())
        with open(self.folder / "mosquitto.log", "ab") as log:
            self.proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=log, stderr=log)
        wait_for_port(self.port, 15, self.proc)

    def restart(self) -> None:
        """Stop (Mosquitto saves its persistent sessions) and start on the same port."""
        self.stop()
        self.start()

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


@dataclass(frozen=True, slots=True)
class TlsListener:
    """A private broker's TLS listener: its port and the PEM files it serves."""

    port: int
    cafile: Path
    certfile: Path
    keyfile: Path


def production_config(
    deploy_text: str,
    *,
    port: int,
    auth: BrokerAuthPaths,
    folder: Path,
    tls: TlsListener | None = None,
    extra: tuple[str, ...] = (),
) -> str:
    """``deploy/mosquitto/mosquitto.conf`` (its text) for a private broker.

    Only what names production places is swapped: the first listener moves to
    ``127.0.0.1:port`` (its own options kept under it); the second (TLS) one
    to ``127.0.0.1:tls.port`` with ``tls``'s certificate files, or it is
    dropped with its options when ``tls`` is None, as are any others. The
    password file and ACL are ``auth``'s, persistence goes to ``folder``, the
    pid file goes, the log goes to stdout, and the broker keeps running as the
    user who started it (as root it would drop to ``mosquitto``, which cannot
    read root's 0640 files). Every other setting, authentication and the ACL
    included, is production's.
    """
    swap = {
        "password_file": f"password_file {auth.password_file}",
        "acl_file": f"acl_file {auth.acl_file}",
        "persistence_location": f"persistence_location {folder}/",
        "log_dest": "log_dest stdout",
        "pid_file": None,
        "user": None,
    }
    files = {} if tls is None else {k: getattr(tls, k) for k in ("cafile", "certfile", "keyfile")}
    ports = {"plain": port, "tls": tls.port if tls else 0}
    out, listeners, mode = [], 0, "global"
    for line in deploy_text.splitlines():
        key = line.split()[0] if line.strip() and not line.startswith("#") else ""
        if key == "listener":
            listeners += 1
            mode = {1: "plain", 2: "tls" if tls else "drop"}.get(listeners, "drop")
            if mode != "drop":
                out.append(f"listener {ports[mode]} 127.0.0.1")
        elif key in LISTENER_OPTIONS and mode != "global":
            if mode != "drop":
                out.append(f"{key} {files[key]}" if mode == "tls" and key in files else line)
        elif key:
            mode = "global"
            if (replacement := swap.get(key, line)) is not None:
                out.append(replacement)
    if listeners == 0:
        raise ServiceError("the deploy config has no listener to swap")
    return "\n".join([*out, f"user {pwd.getpwuid(os.geteuid()).pw_name}", *extra, ""])


class ProductionMosquitto(EmbeddedMosquitto):
    """A private Mosquitto running the production configuration
    (:func:`production_config`) against generated credentials and ACL: the
    demo's broker, and the one the broker tests prove. With ``tls`` (the
    certificate files) it also serves TLS on ``tls_port``."""

    def __init__(
        self,
        folder: Path,
        auth: BrokerAuthPaths,
        deploy_conf: Path = DEPLOY_MOSQUITTO_CONF,
        extra: tuple[str, ...] = (),
        tls: tuple[Path, Path, Path] | None = None,
    ) -> None:
        super().__init__(folder)
        self.auth, self.deploy_conf, self.extra = auth, deploy_conf, extra
        self.tls = None if tls is None else TlsListener(free_port(), *tls)

    def config(self) -> str:
        return production_config(
            self.deploy_conf.read_text(),
            port=self.port,
            auth=self.auth,
            folder=self.folder,
            tls=self.tls,
            extra=self.extra,
        )

    def start(self) -> None:
        super().start()
        if self.tls is not None:
            wait_for_port(self.tls.port, 15, self.proc)
