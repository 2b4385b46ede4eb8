"""The Ray a `gan sweep` starts for itself listens on loopback only, with a token only this user can read.

One real sweep (one tiny trial): while its trial runs, every TCP socket
listening in this process and the Ray processes under it is looked up in
/proc (no psutil needed) and must be bound to a loopback address; the
token file Ray's processes were given must be readable by this user alone.
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
from pathlib import Path

import pytest

from gan_core.testing import run_cli

pytest.importorskip("ray.tune")
if not Path("/proc/net/tcp").is_file():
    pytest.skip("listening sockets are read from Linux's /proc", allow_module_level=True)

LISTEN = "0A"  # TCP state in /proc/net/tcp*


def descendants(root: int) -> set[int]:
    """``root`` and every process below it (Ray's GCS, raylet, agents and workers are children of the driver)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
    found, grown = {root}, True
    while grown:
        below = {pid for pid, parent in parents.items() if parent in found} - found
        found |= below
        grown = bool(below)
    return found


def socket_owners(pids: set[int]) -> dict[str, int]:
    """Socket inode -> the process holding it."""
    owners = {}
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                match = re.fullmatch(r"socket:\[(\d+)\]", os.readlink(fd))
            except OSError:
                continue
            if match:
                owners[match.group(1)] = pid
    return owners


def address_of(hex_address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """/proc/net/tcp{,6} write addresses as 32-bit words in host (little-endian) order."""
    raw = bytes.fromhex(hex_address)
    ordered = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return ipaddress.ip_address(ordered)


def listening(pids: set[int]) -> list[tuple[str, int, str]]:
    """(address, port, process name) of every listening TCP socket the processes hold."""
    owners = socket_owners(pids)
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == LISTEN and fields[9] in owners:
                hex_address, hex_port = fields[1].split(":")
                name = Path(f"/proc/{owners[fields[9]]}/comm").read_text().strip()
                found.append((str(address_of(hex_address)), int(hex_port, 16), name))
    return found


def is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def ray_environment(name: str) -> dict[str, str]:
    """The environment of the first process named ``name`` below this one (what Ray's processes were given)."""
    for pid in sorted(descendants(os.getpid())):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == name:
                pairs = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
                return dict(p.decode().split("=", 1) for p in pairs if b"=" in p)
        except OSError:
            continue
    return {}


def test_the_embedded_ray_listens_on_loopback_only_and_keeps_its_token_private(tmp_path, mnist_dir, monkeypatch):
    import gan_core.experiments.sweep_live as sweep_live

    for name in ("RAY_ADDRESS", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
        monkeypatch.delenv(name, raising=False)
    seen: dict[str, object] = {}

    class Watching(sweep_live.LiveTable):
        """The sweep's own table, also noting Ray's sockets and token while the trial runs."""

        def on_trial_result(self, iteration, trials, trial, result, **info):
            seen["sockets"] = listening(descendants(os.getpid()))
            seen["env"] = env = ray_environment("raylet")
            token = Path(env.get("RAY_AUTH_TOKEN_PATH", "/nonexistent"))
            seen["modes"] = [stat.S_IMODE(p.stat().st_mode) if p.exists() else None for p in (token, token.parent)]
            super().on_trial_result(iteration, trials, trial, result, **info)

    monkeypatch.setattr(sweep_live, "LiveTable", Watching)
    result = run_cli(["sweep", "--dataset", "mnist", "-o", "dataset.limit=128", "--batch-size", "32", "--epochs", "1",
                      "-s", "prior.std=0.5", "--final-n", "50", "--trial-cpus", "1", "--no-report", "--seeds", "1",
                      "--out", str(tmp_path / "sweep")])
    assert result.exit_code == 0, result.output

    sockets = seen["sockets"]
    names = {name for _, _, name in sockets}
    assert {"gcs_server", "raylet"} <= names, sockets  # Ray's servers were seen, not merely nothing
    assert [s for s in sockets if not is_loopback(s[0])] == [], "Ray listens beyond loopback"

    env = seen["env"]
    assert env.get("RAY_AUTH_MODE") == "token"
    token = Path(env["RAY_AUTH_TOKEN_PATH"])
    assert not token.exists()  # removed with its folder once Ray stopped
    assert token.parent.name.startswith("gan-ray-")
    assert seen["modes"] == [0o600, 0o700]  # while Ray ran: only this user could read the token or enter its folder

