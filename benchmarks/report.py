"""Markdown tables from a results document (the JSON that a run writes)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import anatomy
from .inprocess import DUE_SCENARIO, SCENARIO_TITLES
from .stats import Summary, overheads, paired_ratios
from .targets import RATIO_TARGETS, Outcome, check_ratio, check_value

FAMILY_TITLES = {
    "asgi": "ASGI (floor: a raw ASGI app)",
    "wsgi": "WSGI (floor: a raw WSGI app)",
    "flask": "Flask (floor: the same Flask app without sessions)",
}
# Whose overhead each of our stacks is compared with.
PEERS = {
    "asgi-ours-memory": ["asgi-starlette", "asgi-starsessions-memory", "asgi-starsessions-redis"],
    "asgi-ours-redis": ["asgi-starlette", "asgi-starsessions-memory", "asgi-starsessions-redis"],
    "flask-ours-memory": ["flask-cookie", "flask-session-redis", "flask-session-redis-refresh"],
    "flask-ours-redis": ["flask-cookie", "flask-session-redis", "flask-session-redis-refresh"],
    "wsgi-ours-memory": ["flask-cookie", "flask-session-redis"],
    "wsgi-ours-redis": ["flask-cookie", "flask-session-redis"],
}


def _table(header: list[str], rows: Iterable[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


class InProcess:
    """Index over the in-process cells of a results document."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.cells = {(c["stack"], c["scenario"]): c for c in doc["cells"]}
        self.stacks: dict[str, dict[str, Any]] = {}
        for cell in doc["cells"]:
            self.stacks.setdefault(cell["stack"], cell)
        self.scenarios = sorted({c["scenario"] for c in doc["cells"]})
        self.floors: dict[str, str] = {c["family"]: c["stack"] for c in doc["cells"] if c["is_floor"]}

    def label(self, stack: str) -> str:
        first = self.stacks[stack]
        return f"{first['label']} ({first['family'].upper() if first['family'] != 'flask' else 'Flask'})"

    def cell(self, stack: str, scenario: str) -> dict[str, Any] | None:
        """The cell of ``stack`` in ``scenario``; in (e), a stack without one (a peer, a floor)
        is represented by its (b) cell, since it does the same in both."""
        cell = self.cells.get((stack, scenario))
        if cell is None and scenario == DUE_SCENARIO and not self.stacks[stack].get("is_ours", False):
            cell = self.cells.get((stack, "b"))
        return cell

    def medians(self, stack: str, scenario: str) -> list[float] | None:
        cell = self.cell(stack, scenario)
        return None if cell is None else list(cell["medians"])

    def floor_of(self, stack: str) -> str:
        family: str = self.stacks[stack]["family"]
        return self.floors[family]

    def overheads(self, stack: str, scenario: str) -> list[float] | None:
        """Per repetition: the stack's median minus its family floor's."""
        cell, floor = self.medians(stack, scenario), self.medians(self.floor_of(stack), scenario)
        if cell is None or floor is None:
            return None
        return overheads(cell, floor)

    def overhead(self, stack: str, scenario: str) -> Summary | None:
        values = self.overheads(stack, scenario)
        return None if values is None else Summary.of(values)

    def ratio(self, ours: str, peer: str, scenario: str) -> Summary | None:
        mine, theirs = self.medians(ours, scenario), self.medians(peer, scenario)
        if mine is None or theirs is None:
            return None
        floor_mine = self.medians(self.floor_of(ours), scenario)
        floor_theirs = self.medians(self.floor_of(peer), scenario)
        assert floor_mine is not None and floor_theirs is not None
        # Overheads are paired per repetition; each side is measured against its own family's floor.
        return Summary.of(paired_ratios(overheads(mine, floor_mine), overheads(theirs, floor_theirs)))

    def commands(self, stack: str, scenario: str) -> float | None:
        cell = self.cell(stack, scenario)
        if cell is None or self.stacks[stack]["redis"] is False:
            return None
        return float(sum(cell["commands"].values()))


def render_inprocess(doc: dict[str, Any]) -> str:
    data = InProcess(doc)
    parts = []
    for family, title in FAMILY_TITLES.items():
        stacks = [s for s, c in data.stacks.items() if c["family"] == family and not c.get("is_reference")]
        if not stacks:
            continue
        parts.append(
            f"#### {title}\n\nMedian µs per request (min..max over repetitions), then the overhead over the floor. "
            "In (e), a peer does what it does in (b).\n"
        )
        header = ["stack"] + [SCENARIO_TITLES[s] for s in data.scenarios]
        rows = []
        for stack in stacks:
            first = data.stacks[stack]
            row = [first["label"]]
            for scenario in data.scenarios:
                own = data.cells.get((stack, scenario))
                medians = data.medians(stack, scenario)
                if medians is None:
                    row.append("–")
                    continue
                if own is None:
                    row.append("as (b)")
                    continue
                text = Summary.of(medians).fmt(1)
                overhead = data.overhead(stack, scenario)
                if overhead is not None and not first["is_floor"]:
                    text += f"<br>+{overhead.median:.1f}"
                row.append(text)
            rows.append(row)
        parts.append(_table(header, rows))
        parts.append("")
    parts.append("#### What each stack does per request\n")
    parts.append(
        "`cookie` = the response carries Set-Cookie. Redis commands per request: those the client sent "
        "(counted with MONITOR), then what a Lua script ran on the server (from `INFO commandstats`).\n"
    )
    header = ["stack"] + [SCENARIO_TITLES[s] for s in data.scenarios]
    rows = []
    for stack, first in data.stacks.items():
        if first["is_floor"] or first.get("is_reference"):
            continue
        row = [f"{FAMILY_TITLES[first['family']].split(' ')[0]}: {first['label']}"]
        for scenario in data.scenarios:
            cell = data.cells.get((stack, scenario))
            if cell is None:
                row.append("as (b)" if data.cell(stack, scenario) is not None else "–")
                continue
            bits = ["cookie" if cell["set_cookie"] else "no cookie"]
            if first["redis"]:
                commands = " + ".join(f"{n:g} {name.upper()}" for name, n in sorted(cell["commands"].items()))
                bits.append(commands or "0 commands")
                inner = dict(cell.get("server_commands", {}))
                for name, n in cell["commands"].items():
                    inner[name] = inner.get(name, 0) - n
                inner_text = " + ".join(f"{n:g} {name.upper()}" for name, n in sorted(inner.items()) if n > 0.005)
                if inner_text:
                    bits.append(f"in the script: {inner_text}")
            row.append(", ".join(bits))
        rows.append(row)
    parts.append(_table(header, rows))
    parts.append("")
    parts.append("#### Our overhead as a ratio of each peer's (paired per repetition)\n")
    parts.append("Median ratio (min..max). Below 1 means ours adds less to a request than the peer does.\n")
    rows = []
    for ours, peers in PEERS.items():
        if ours not in data.stacks:
            continue
        for peer in peers:
            if peer not in data.stacks:
                continue
            row = [f"{data.label(ours)} / {data.label(peer)}"]
            for scenario in data.scenarios:
                ratio = data.ratio(ours, peer, scenario)
                row.append("–" if ratio is None else ratio.fmt(2, "x"))
            rows.append(row)
    parts.append(_table(["ours / peer"] + [SCENARIO_TITLES[s] for s in data.scenarios], rows))
    floor = render_round_trip(data)
    if floor:
        parts += ["", "#### Against the physical floor: one Redis round trip\n", floor]
    return "\n".join(parts)


#: Our Redis stacks and the reference (a floor plus one redis-py GET) each is compared with.
ROUND_TRIPS = {
    "asgi-ours-redis": "asgi-redis-get",
    "wsgi-ours-redis": "wsgi-redis-get",
    "flask-ours-redis": "wsgi-redis-get",
}


def render_round_trip(data: InProcess) -> str:
    """Our Redis-backed requests against the least any Redis-backed read costs: one ``GET``."""
    rows = []
    for ours, reference in ROUND_TRIPS.items():
        if ours not in data.stacks or reference not in data.stacks:
            continue
        get = data.overheads(reference, "b")
        assert get is not None
        row = [data.label(ours), f"+{Summary.of(get).median:.1f}"]
        for scenario in ("b", "d", "e", "c"):
            mine = data.overheads(ours, scenario)
            if mine is None:
                row.append("–")
                continue
            ratio = Summary.of(paired_ratios(mine, get))
            row.append(f"+{Summary.of(mine).median:.1f}: {ratio.fmt(2, 'x')}")
        rows.append(row)
    if not rows:
        return ""
    header = ["stack", "one `GET` (µs added)"] + [
        f"{SCENARIO_TITLES[s]}: µs added, ratio to the `GET`" for s in ("b", "d", "e", "c")
    ]
    note = (
        "The reference is the family's floor plus one redis-py `GET` of a 400-byte value per request "
        "(`redis.asyncio` under ASGI, without a socket timeout; `redis.Redis` under WSGI), timed in the same "
        "repetitions: no session store can read from Redis for less. Ratios are paired per repetition.\n\n"
    )
    return note + _table(header, rows)


def outcomes(doc: dict[str, Any]) -> list[Outcome]:
    results: list[Outcome] = []
    if "inprocess" in doc:
        data = InProcess(doc["inprocess"])
        for target in RATIO_TARGETS:
            ratio = data.ratio(target.ours, target.peer, target.scenario)
            commands = data.commands(target.ours, target.scenario)
            results.append(check_ratio(target, ratio, commands))
    scale = doc.get("scale")
    if scale:
        results.append(check_value("1M sessions: (b) overhead vs at 1k", scale.get("b_ratio"), 1.2, fmt="{:.2f}x"))
        results.append(
            check_value("1M sessions: bytes per session", scale.get("bytes_per_session"), 1024, fmt="{:.0f} B")
        )
        results.append(
            check_value("list one user's sessions: 1M vs 1k total", scale.get("list_ratio"), 1.5, fmt="{:.2f}x")
        )
    growth = doc.get("growth")
    if growth:
        results.append(
            check_value("(c) on 100 keys vs 1 key", growth.get("c_100_vs_1"), 3.0, fmt="{:.2f}x", strict=True)
        )
    memory = doc.get("memory", {})
    churn, expiry = memory.get("churn"), memory.get("expiry")
    if churn:
        size = f"{churn['maxsize']:,}"
        results.append(check_value("bytes per realistic session", churn.get("bytes_per_session"), 1024, fmt="{:.0f} B"))
        results.append(
            check_value(
                f"store of {size} fed 3x {size} new sessions: memory growth", churn.get("growth"), 0.10, fmt="{:.1%}"
            )
        )
    if expiry:
        results.append(
            check_value(
                f"longest call after {expiry['sessions']:,} sessions expire at once",
                expiry.get("longest_ms"),
                50.0,
                fmt="{:.1f} ms",
            )
        )
    return results


def render_outcomes(items: list[Outcome]) -> str:
    rows = [[o.target, o.measured, o.limit, {True: "met", False: "**missed**", None: "not run"}[o.met]] for o in items]
    return _table(["target", "measured", "limit", ""], rows)


def render_machine(doc: dict[str, Any]) -> str:
    info = doc["machine"]
    config = doc["config"]
    lines = [
        f"- CPU: {info['cpu']}, {info['cores']} cores",
        f"- {info['python']}, {info['os']}",
        "- Versions: " + ", ".join(f"{name} {version}" for name, version in info["versions"].items()),
        f"- Command: `{doc['command']}` ({config['repetitions']} repetitions x {config['requests']} timed requests "
        f"per cell, {config['warmup']} warm-up; {doc.get('seconds', 0):.0f} s in all)",
    ]
    return "\n".join(lines)


def render_scale(scale: dict[str, Any]) -> str:
    large, small = scale["large"], scale["small"]
    over_l, over_s = scale["b_overhead_large"], scale["b_overhead_small"]
    rows = [
        [
            f"(b) overhead, µs, {large:,} sessions",
            f"{over_l['median']:.1f} ({over_l['low']:.1f}..{over_l['high']:.1f})",
        ],
        [
            f"(b) overhead, µs, {small:,} sessions",
            f"{over_s['median']:.1f} ({over_s['low']:.1f}..{over_s['high']:.1f})",
        ],
        [
            "(b) ratio, paired",
            f"{scale['b_ratio']:.2f}x ({scale['b_ratio_range'][0]:.2f}..{scale['b_ratio_range'][1]:.2f})",
        ],
        [
            "resident memory per session (a realistic session plus the key (b) reads)",
            f"{scale['bytes_per_session']:.0f} bytes",
        ],
        [f"filling {large:,} sessions", f"{scale['fill_seconds']:.1f} s"],
        [
            f"list_by_user, µs, {large:,} / {small:,} sessions",
            f"{Summary.of(scale['list_us']['large']).median:.1f} / {Summary.of(scale['list_us']['small']).median:.1f}",
        ],
        [
            "list_by_user ratio, paired",
            f"{scale['list_ratio']:.2f}x ({scale['list_ratio_range'][0]:.2f}..{scale['list_ratio_range'][1]:.2f})",
        ],
    ]
    return _table(["measure", "value"], rows)


def render_growth(result: dict[str, Any]) -> str:
    rows = []
    for label, scenarios in result["table"].items():
        row = [label]
        for scenario in ("b", "c"):
            cell = scenarios.get(scenario)
            if cell is None:
                row.append("–")
                continue
            over = cell["overhead"]
            row.append(f"+{over['median']:.1f} ({over['low']:.1f}..{over['high']:.1f})")
        rows.append(row)
    text = _table(["session", "(b) read one key: overhead µs", "(c) write one key: overhead µs"], rows)
    if "c_100_vs_1" in result:
        low, high = result["c_100_vs_1_range"]
        text += f"\n\n(c) on 100 keys / (c) on 1 key, paired: {result['c_100_vs_1']:.2f}x ({low:.2f}..{high:.2f})"
    return text


#: The end-to-end stacks by key, as the tables name them.
E2E_LABELS = {
    "asgi-floor": "ASGI: raw app (floor)",
    "asgi-ours-memory": "ASGI: ours, memory store",
    "asgi-ours-redis": "ASGI: ours, Redis store",
    "asgi-starlette": "ASGI: Starlette SessionMiddleware (cookie)",
    "asgi-starsessions-memory": "ASGI: starsessions, memory store",
    "asgi-starsessions-redis": "ASGI: starsessions, Redis store",
    "flask-floor": "Flask without sessions (floor)",
    "flask-ours-memory": "Flask: ours, memory store",
    "flask-ours-redis": "Flask: ours, Redis store",
    "flask-cookie": "Flask session (cookie)",
    "flask-session-redis": "Flask-Session, Redis",
    "flask-session-redis-refresh": "Flask-Session, Redis, refresh each request",
}


def render_e2e(result: dict[str, Any]) -> str:
    rows = [
        [E2E_LABELS.get(stack, stack), f"{r['rps']:,.0f}", f"{r['p99_ms']:.2f}", f"{r['errors']:.0f}"]
        for stack, r in result["stacks"].items()
    ]
    head = (
        f"Load generator: {result['tool']}, {result['connections']} connections, {result['seconds']:g} s per stack, "
        "scenario (b), one uvicorn worker.\n\n"
    )
    return head + _table(["stack", "requests/s", "p99 ms", "non-200"], rows)


def render_memory(memory: dict[str, Any]) -> str:
    rows = []
    churn, expiry = memory.get("churn"), memory.get("expiry")
    if churn:
        size = f"{churn['maxsize']:,}"
        rows += [
            ["resident memory per session", f"{churn['bytes_per_session']:.0f} bytes ({size} sessions)"],
            [
                f"growth after the store is full and takes {3 * churn['maxsize']:,} more sessions (each evicts one)",
                f"+{churn['growth_mb']:.1f} MB: +{churn['growth']:.1%} of the store's "
                f"{churn['store_mb']:.1f} MB, +{churn['process_growth']:.1%} of the process",
            ],
        ]
        steps = churn.get("growth_steps_mb")
        if steps:
            rows.append(
                [
                    f"growth since the fill, after each {size} new sessions",
                    ", ".join(f"+{mb:.1f} MB" for mb in steps)
                    + ": one step (Python's hash tables double once under churn)",
                ]
            )
    if expiry:
        drained = expiry["calls_to_reclaim"]
        seconds = expiry["seconds_to_reclaim"]
        rows += [
            [
                f"longest single call while {expiry['sessions']:,} sessions that expired at once are reclaimed",
                f"{expiry['longest_ms']:.1f} ms",
            ],
            [
                "calls until every one of them is reclaimed",
                "not within the run" if drained is None else f"{drained:,} ({seconds:.1f} s)",
            ],
        ]
    note = (
        "Realistic sessions: a user `{id, name}`, four data keys (a CSRF token, a cart, a theme, the last "
        "page), an IPv4 address of their own, a browser User-Agent (`benchmarks/memory.py`, each part in a "
        "fresh process). The expired sessions are reclaimed during ordinary calls (three reads of live "
        "sessions, one new session, repeated), at most 128 per call.\n\n"
    )
    return note + _table(["measure", "value"], rows)


def render(doc: dict[str, Any], *, targets: bool = True) -> str:
    parts = ["## Machine\n", render_machine(doc), ""]
    if targets:
        parts += ["## Targets\n", render_outcomes(outcomes(doc)), ""]
    if "inprocess" in doc:
        parts += ["## In-process, side by side\n", render_inprocess(doc["inprocess"]), ""]
    if "anatomy" in doc:
        parts += ["## Anatomy of a Redis-backed read\n", anatomy.render(doc["anatomy"]), ""]
    if "growth" in doc:
        parts += ["## Growth with the session's size (ASGI, memory store)\n", render_growth(doc["growth"]), ""]
    if "scale" in doc:
        parts += ["## Scale (memory store)\n", render_scale(doc["scale"]), ""]
    if doc.get("memory"):
        parts += ["## Memory store: size and reclaiming\n", render_memory(doc["memory"]), ""]
    if "e2e" in doc:
        parts += ["## End to end (uvicorn on loopback)\n", render_e2e(doc["e2e"]), ""]
    return "\n".join(parts)
