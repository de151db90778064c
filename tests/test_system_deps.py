"""scripts/system-deps.sh: detect what pip cannot install, install it when allowed, else say what to install.

Each case runs the script with ``PATH`` reduced to a directory of the test's own: the
basic tools it uses, plus fakes of ``id``, ``sudo`` and ``apt-get`` (which records its
calls and "installs" by creating stand-in binaries), so that root, sudo and a missing
package are all simulated without touching the machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "system-deps.sh"
SH = shutil.which("sh") or "/bin/sh"
TOOLS = ("mktemp", "rm", "tr", "sed", "env", "cat", "touch", "chmod", "mkdir", "tail")
# What each Debian package provides, for the fake apt-get.
PROVIDES = {"redis-server": ["redis-server"], "redis-tools": ["redis-cli"], "make": ["make"]}


def fake(path: Path, body: str) -> None:
    path.write_text(f"#!{SH}\n{body}\n", encoding="utf-8")
    path.chmod(0o755)


@dataclass
class Machine:
    """A simulated machine: its PATH directory, its Chromium path and the apt-get call log."""

    bin: Path
    chromium: Path
    log: Path

    def has(self, *names: str) -> None:
        for name in names:
            fake(self.bin / name, "exit 0")

    def user(self, uid: int, sudo: str | None = None) -> None:
        """Run as ``uid``; ``sudo``: None (not installed), "nopasswd" or "password"."""
        fake(self.bin / "id", f'[ "$1" = -u ] && echo {uid}')
        if sudo == "nopasswd":
            fake(self.bin / "sudo", '[ "$1" = -n ] && shift; [ "$1" = true ] && exit 0; exec "$@"')
        elif sudo == "password":
            fake(self.bin / "sudo", 'echo "sudo: a password is required" >&2; exit 1')

    def apt(self, *, installs: bool = True, fails: bool = False) -> None:
        provides = " ".join(f"{pkg}) names='{' '.join(PROVIDES.get(pkg, []))}' ;;" for pkg in PROVIDES)
        chromium = f'chromium) touch "{self.chromium}"; chmod +x "{self.chromium}"; names="" ;;'
        install = f"""
            for pkg in "$@"; do
                case $pkg in {provides} {chromium} *) names="" ;; esac
                for name in $names; do
                    printf '#!{SH}\\nexit 0\\n' > "{self.bin}/$name"; chmod +x "{self.bin}/$name"
                done
            done"""
        fake(
            self.bin / "apt-get",
            f'echo "DEBIAN_FRONTEND=$DEBIAN_FRONTEND $*" >> "{self.log}"\n'
            + ('echo "E: Unable to locate package chromium"; exit 100\n' if fails else "")
            + f'if [ "$1" = install ]; then shift; while [ "${{1#-}}" != "$1" ]; do shift; done; '
            f"{install if installs else ':'}\nfi",
        )

    def run(self, *needs: str) -> subprocess.CompletedProcess[str]:
        env = {"PATH": str(self.bin), "CHROMIUM": str(self.chromium), "HOME": str(self.bin.parent)}
        return subprocess.run(
            [SH, str(SCRIPT), *needs], env=env, capture_output=True, text=True, timeout=30, check=False
        )

    def apt_calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found, tool
        os.symlink(found, bin_dir / tool)
    return Machine(bin=bin_dir, chromium=tmp_path / "chromium", log=tmp_path / "apt.log")


def test_nothing_missing_is_silent(machine: Machine) -> None:
    machine.has("redis-server", "redis-cli")
    machine.chromium.touch(mode=0o755)
    machine.user(1000)
    result = machine.run("redis", "chromium")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert machine.apt_calls() == []


def test_without_root_or_sudo_it_stops_with_one_line_naming_the_packages(machine: Machine) -> None:
    machine.user(1000)
    machine.apt()
    result = machine.run("redis", "chromium")
    assert result.returncode == 1 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert "redis-server redis-tools chromium" in line and "apt-get install" in line
    assert machine.apt_calls() == []


def test_sudo_that_wants_a_password_counts_as_no_sudo(machine: Machine) -> None:
    machine.user(1000, sudo="password")
    machine.apt()
    machine.has("redis-server", "redis-cli")
    result = machine.run("redis", "chromium")
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1
    assert "chromium" in result.stderr and "redis" not in result.stderr
    assert machine.apt_calls() == []


@pytest.mark.parametrize(("uid", "sudo"), [(0, None), (1000, "nopasswd")])
def test_root_or_passwordless_sudo_updates_then_installs_only_what_is_missing(
    machine: Machine, uid: int, sudo: str | None
) -> None:
    machine.user(uid, sudo)
    machine.apt()
    machine.has("redis-cli")
    result = machine.run("redis", "chromium")
    assert result.returncode == 0, result.stderr
    update, install = machine.apt_calls()
    assert update.startswith("DEBIAN_FRONTEND=noninteractive update")
    assert install.startswith("DEBIAN_FRONTEND=noninteractive install -y")
    assert install.split()[-2:] == ["redis-server", "chromium"]  # redis-tools was there already
    assert os.access(machine.chromium, os.X_OK) and (machine.bin / "redis-server").exists()
    assert machine.run("redis", "chromium").stderr == ""  # and the next run is silent


def test_an_install_that_does_not_provide_the_binary_is_an_error(machine: Machine) -> None:
    machine.user(0)
    machine.apt(installs=False)
    result = machine.run("redis")
    assert result.returncode == 1
    assert "Still missing after apt-get install: redis-server redis-tools" in result.stderr


def test_a_failing_apt_get_shows_its_last_lines_and_stops(machine: Machine) -> None:
    machine.user(0)
    machine.apt(fails=True)
    result = machine.run("chromium")
    assert result.returncode == 1 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert "E: Unable to locate package chromium" in lines
    assert lines[-1].startswith("apt-get could not install: chromium")
    assert len(machine.apt_calls()) == 1  # update failed: install was not attempted


def test_a_quiet_install_prints_one_line_of_its_own(machine: Machine) -> None:
    machine.user(0)
    machine.apt()
    result = machine.run("redis")
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        "Installing missing system packages with apt-get (a minute or two): redis-server redis-tools"
    ]


def test_without_apt_get_it_says_what_to_install(machine: Machine) -> None:
    machine.user(0)
    result = machine.run("make", "chromium")
    assert result.returncode == 1
    assert "make chromium" in result.stderr and "package manager" in result.stderr


def test_an_unknown_need_is_refused(machine: Machine) -> None:
    machine.user(0)
    result = machine.run("redis", "postgres")
    assert result.returncode == 2 and "unknown need 'postgres'" in result.stderr


def test_the_venv_need_probes_the_python_given(machine: Machine) -> None:
    machine.user(1000)
    fake(machine.bin / "python3", "exit 1")  # a Python whose venv module cannot make a venv
    result = machine.run("venv")
    assert result.returncode == 1 and "python3-venv" in result.stderr


def dry_run(target: str) -> str:
    """The commands ``make`` would run for ``target`` on a fresh clone (no virtualenv yet)."""
    venv = "/nonexistent/fresh-venv"
    result = subprocess.run(
        ["make", "-n", target, f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_make_test_checks_redis_and_chromium_before_anything_slow() -> None:
    commands = dry_run("test").splitlines()
    venv_check = next(i for i, line in enumerate(commands) if "system-deps.sh venv" in line)
    first_check = next(i for i, line in enumerate(commands) if "system-deps.sh redis chromium" in line)
    first_venv = next(i for i, line in enumerate(commands) if "-m venv" in line)
    first_pip = next(i for i, line in enumerate(commands) if "--group test" in line)
    assert venv_check < first_venv  # python3-venv is looked for before it is used
    assert first_check < first_pip  # a machine that cannot get Redis stops before pip starts
    assert "pip>=25.1" in "\n".join(commands[:first_pip])  # --group needs a recent pip


def test_make_run_needs_neither_redis_nor_chromium() -> None:
    commands = dry_run("run")
    assert "system-deps.sh venv" in commands and "--group demo" in commands
    assert "redis" not in commands.replace("redis,", "") and "chromium" not in commands
    assert "--group test" not in commands
