"""``python -m benchmarks``: run everything and write the tables (see README.md)."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import random
import subprocess
import sys
import time
from contextlib import ExitStack
from importlib import metadata
from pathlib import Path
from typing import Any

from . import anatomy, e2e, growth, report
from .inprocess import SCENARIOS, check, close_stacks, count_commands, prepare_cells, run_repetitions
from .redis_server import RedisServer, redis_server
from .stacks import all_stacks

RESULTS = Path(__file__).parent / "results"
LIBRARIES = [
    "session-middleware",
    "starlette",
    "starsessions",
    "flask",
    "flask-session",
    "werkzeug",
    "itsdangerous",
    "cachetools",
    "redis",
    "uvicorn",
    "httpx",
]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def machine(server: RedisServer | None) -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    os_name = platform.platform()
    try:
        with open("/etc/os-release") as release:
            fields = dict(line.rstrip().split("=", 1) for line in release if "=" in line)
            os_name = fields.get("PRETTY_NAME", os_name).strip('"') + f" (kernel {platform.release()})"
    except OSError:
        pass
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    if server is not None:
        versions["redis-server"] = server.version()
    try:
        wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("[")[0].strip()
        versions["wrk"] = wrk.removeprefix("wrk ") or "unknown"
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": os_name,
        "versions": versions,
    }


async def in_process(server: RedisServer | None, args: argparse.Namespace) -> dict[str, Any]:
    stacks = list(all_stacks(server))
    cells = await prepare_cells(stacks, list(SCENARIOS))
    growth_cells = growth.memory_growth_cells()
    for cell in growth_cells:
        await check(cell)
    log(f"in-process: {len(cells)} cells + {len(growth_cells)} growth cells, {args.repetitions} repetitions")
    await run_repetitions(
        cells + growth_cells,
        repetitions=args.repetitions,
        requests=args.requests,
        warmup=args.warmup,
        seed=args.seed,
        progress=log,
    )
    if server is not None:
        await count_commands(cells, server, 200)
    await close_stacks(stacks)
    doc = {
        "cells": [
            {
                "stack": c.stack.key,
                "label": c.stack.label,
                "family": c.stack.family,
                "is_floor": c.stack.is_floor,
                "is_ours": c.stack.is_ours,
                "is_reference": c.stack.is_reference,
                "redis": c.stack.redis is not None,
                "scenario": c.scenario,
                "medians": c.medians,
                "set_cookie": c.set_cookie,
                "commands": c.commands,
                "server_commands": c.server_commands,
            }
            for c in cells
        ]
    }
    floor = {c.scenario: c.medians for c in cells if c.stack.key == "asgi-floor"}
    return {"inprocess": doc, "growth": growth.summarize(growth_cells, floor)}


def scale(args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.scale", "--seed", str(args.seed)]
    if args.quick:
        command += ["--large", "100000", "--repetitions", "3", "--requests", "500"]
    log("scale: " + " ".join(command[1:]))
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=Path(__file__).parent.parent)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def memory_bounds(args: argparse.Namespace) -> dict[str, Any]:
    """The memory store's bounds, each part in a process of its own (``benchmarks.memory``)."""
    maxsize, sessions = (20_000, 100_000) if args.quick else (100_000, 500_000)
    result: dict[str, Any] = {}
    for part, options in (("churn", ["--maxsize", str(maxsize)]), ("expiry", ["--sessions", str(sessions)])):
        command = [sys.executable, "-m", "benchmarks.memory", part, *options]
        log("memory: " + " ".join(command[1:]))
        out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=Path(__file__).parent.parent)
        result[part] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run: few repetitions, small scale test")
    parser.add_argument("--repetitions", type=int)
    parser.add_argument("--requests", type=int, help="timed requests per cell and repetition")
    parser.add_argument("--warmup", type=int)
    parser.add_argument("--seed", type=int, default=20240606)
    parts = ["inprocess", "anatomy", "scale", "memory", "e2e", "redis"]
    parser.add_argument("--skip", action="append", default=[], choices=parts)
    parser.add_argument("--e2e-seconds", type=float)
    args = parser.parse_args()
    args.repetitions = args.repetitions or (3 if args.quick else 11)
    args.requests = args.requests or (200 if args.quick else 1500)
    args.warmup = args.warmup if args.warmup is not None else args.requests // 10
    args.e2e_seconds = args.e2e_seconds or (1.0 if args.quick else 5.0)
    random.seed(args.seed)

    started = time.monotonic()
    doc: dict[str, Any] = {
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": "python -m benchmarks " + " ".join(sys.argv[1:]),
        "config": {k: v for k, v in vars(args).items()},
    }
    with ExitStack() as stack:
        server = None if "redis" in args.skip else stack.enter_context(redis_server())
        doc["machine"] = machine(server)
        if "inprocess" not in args.skip:
            doc.update(asyncio.run(in_process(server, args)))
        if server is not None and "anatomy" not in args.skip:
            log("anatomy of a Redis-backed read")
            repetitions, requests = (3, 300) if args.quick else (7, 1000)
            doc["anatomy"] = anatomy.run(server, repetitions=repetitions, requests=requests)
        if "scale" not in args.skip:
            doc["scale"] = scale(args)
        if "memory" not in args.skip:
            doc["memory"] = memory_bounds(args)
        if "e2e" not in args.skip:
            log("end to end: uvicorn + load generator")
            doc["e2e"] = e2e.run(
                server, seconds=args.e2e_seconds, connections=16, stacks=e2e.ASGI_STACKS + e2e.WSGI_STACKS
            )
    doc["seconds"] = time.monotonic() - started

    RESULTS.mkdir(exist_ok=True)
    stamp = doc["when"].replace(":", "").replace("-", "")
    (RESULTS / f"{stamp}.json").write_text(json.dumps(doc, indent=1))
    markdown = report.render(doc)
    (RESULTS / f"{stamp}.md").write_text(markdown)
    (RESULTS / "latest.md").write_text(markdown)
    # The same tables without the checks against the project's targets: what docs/benchmarks.md shows.
    (RESULTS / "latest-doc.md").write_text(report.render(doc, targets=False))
    print(markdown)
    log(f"done in {doc['seconds']:.0f} s; results in {RESULTS}/{stamp}.json and .md")


if __name__ == "__main__":
    main()
