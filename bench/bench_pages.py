"""Page weight of the participant voting pages, as a tablet on venue Wi-Fi would load them.

Run: .venv/bin/python bench/bench_pages.py [--chromium /usr/bin/chromium] [--width 768 --height 1024]

Starts the app (uvicorn in a thread, as tests/browser/conftest.py does) over a fresh SQLite database
in a temporary directory with the demo loaded and two rounds opened for voting (a rating round and a
ranking round), joins as a participant in Debian's Chromium (Playwright), then loads

1. the rating question page (/s/<code>/rounds/<id>/q/1) and
2. the ranking page (/s/<code>/rounds/<id>)

each twice: cold (a new browser context, empty cache, with the participant's cookie) and warm (the
same page again in that context: the vendored CSS and JS carry year-long immutable cache headers).
Every request is recorded (page.on("request"/"response") and request.sizes(): bytes on the wire,
headers and encoded body). Chromium asks for gzip/br itself (Accept-Encoding); the server gzips.

Prints, per load, each response (status, content-encoding, bytes transferred), the total in KB and
the hosts asked (must be only the app's own). Target: the voting page with its CSS and JS under
150 KB transferred, cold. Exit status 1 if a page breaks the target or asks another host.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import col, select

from codesign import db
from codesign.config import Settings
from codesign.models import Outcome, OutcomeStatus, User
from codesign.services import demo, rounds

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.live_server
from tests.live_server import LiveServer

TARGET_KB = 150.0
SECRET = secrets.token_urlsafe(48)  # the served app never signs with a constant


@dataclass
class Hit:
    url: str
    status: int
    encoding: str
    content_type: str
    transferred: int  # response headers + encoded body: bytes on the wire (0 when served from the cache)
    from_cache: bool


@dataclass
class Load:
    name: str
    hits: list[Hit]
    hosts: set[str]

    @property
    def total_kb(self) -> float:
        return sum(h.transferred for h in self.hits) / 1024


def seed(settings: Settings) -> tuple[str, int, int]:
    """The demo, plus a rating round and a ranking round open over five of its outcomes."""
    engine = db.make_engine(settings)
    db.migrate(engine)
    with db.write_session(engine) as s:
        info = demo.seed_demo(s)
        facilitator = s.exec(select(User).where(User.email == info.facilitator_email)).one()
        ids = [o.id for o in s.exec(select(Outcome).where(
            Outcome.population_group_id == info.population_group_id, Outcome.status == OutcomeStatus.accepted)
            .order_by(col(Outcome.id)).limit(5))]
        form = {"title": "How important is each outcome?", "method": "rating", "combine": "weighted",
                "in_min": "70", "in_max_low": "15", "out_min": "70", "out_max_high": "15", "min_group_size": "5",
                "budget": "10", "top_k": "3", "max_per_outcome": "", "outcomes": ",".join(map(str, ids))}
        made = [rounds.create_round(s, facilitator, info.session_id, {**form, **extra})
                for extra in ({}, {"method": "ranking", "title": "Your top three"})]
        for r in made:
            rounds.open_round(s, facilitator, info.session_id, r.id or 0, acknowledge_small=True)
        code = info.join_code
        rating, ranking = (r.id or 0 for r in made)
    engine.dispose()
    return code, rating, ranking


def load(context: Any, name: str, url: str) -> Load:
    page = context.new_page()
    hits: list[Hit] = []
    hosts: set[str] = set()
    responses: list[Any] = []
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.on("response", lambda response: responses.append(response))
    # request.sizes() reports a cached response's stored headers as if received; the DevTools
    # protocol says which responses came from the browser's cache, so those count as 0 bytes.
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    urls: dict[str, str] = {}
    cached: set[str] = set()
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.requestServedFromCache", lambda e: cached.add(urls.get(e["requestId"], "")))
    cdp.on("Network.responseReceived", lambda e: cached.add(e["response"]["url"])
           if e["response"].get("fromDiskCache") or e["response"].get("fromPrefetchCache") else None)
    page.goto(url, wait_until="networkidle")
    for response in responses:
        response.finished()
        request = response.request
        sizes = request.sizes()
        from_cache = request.url in cached
        wire = 0 if from_cache else max(0, sizes["responseHeadersSize"]) + max(0, sizes["responseBodySize"])
        headers = response.headers
        hits.append(Hit(urlsplit(request.url).path, response.status, headers.get("content-encoding", "-"),
                        headers.get("content-type", "").split(";")[0], wire, from_cache))
    cdp.detach()
    page.close()
    return Load(name, hits, hosts)


def report(result: Load, own_host: str) -> bool:
    print(f"\n{result.name}")
    for h in result.hits:
        where = "cache" if h.from_cache else f"{h.transferred / 1024:6.1f} KB"
        print(f"  {h.status}  {h.encoding:5}  {where:>9}  {h.content_type:24} {h.url}")
    others = sorted(result.hosts - {own_host})
    print(f"  total transferred: {result.total_kb:.1f} KB over {len(result.hits)} responses; "
          f"hosts: {', '.join(sorted(result.hosts))}" + (f"  OTHER HOSTS: {others}" if others else ""))
    return not others


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--width", type=int, default=768)
    parser.add_argument("--height", type=int, default=1024)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{Path(tmp) / 'bench.db'}", env="test", secret_key=SECRET,
                            secure_cookies=False)
        code, rating, ranking = seed(settings)
        with LiveServer(settings) as server, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium,
                                        args=["--headless", "--no-sandbox", "--disable-background-networking"])
            device = {"viewport": {"width": args.width, "height": args.height}, "has_touch": True,
                      "is_mobile": True, "base_url": server.url}
            joining = browser.new_context(**device)
            page = joining.new_page()
            page.goto(f"/j/{code}")
            page.get_by_role("button", name="Patient", exact=True).click()
            page.get_by_role("heading", name="What matters most to you?").wait_for()
            cookies = joining.cookies()
            joining.close()

            own = urlsplit(server.url).netloc
            ok = True
            summary: list[tuple[str, float, float]] = []
            for name, path in (("rating question", f"/s/{code}/rounds/{rating}/q/1"),
                               ("ranking", f"/s/{code}/rounds/{ranking}")):
                context = browser.new_context(**device)  # a fresh context: empty cache
                context.add_cookies(cookies)
                cold = load(context, f"{name} page, cold cache ({path})", server.url + path)
                warm = load(context, f"{name} page, warm cache (same page again)", server.url + path)
                context.close()
                ok &= report(cold, own) & report(warm, own)
                ok &= cold.total_kb < TARGET_KB
                summary.append((name, cold.total_kb, warm.total_kb))
            browser.close()
    print(f"\nsummary (KB transferred, target under {TARGET_KB:.0f} KB cold):")
    for name, cold_kb, warm_kb in summary:
        verdict = "ok" if cold_kb < TARGET_KB else "OVER TARGET"
        print(f"  {name:16} cold {cold_kb:6.1f} KB   warm {warm_kb:6.1f} KB   {verdict}")
    print(f"  hosts asked: only {own}" if ok else "  FAILED: see above")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
