"""The hot endpoints under load, beside a bare Django view, in production settings: `make bench`.

    .venv/bin/python bench/http.py [--duration 8] [--rounds 2] [--connections 8] [--users 64] [--workers 4]

What it does, in one run on this machine's PostgreSQL and Redis (both must be up):

1. a fresh database `tunee_bench` and Redis databases 12-13, a temporary VAR_DIR, production settings (`DEBUG=0`,
   PostgreSQL, Redis cache and broker, the payment sandbox on so that notifications can be signed here);
2. seeds `--users` users with a real login session each, `--works` works made through the API (`POST /api/works`
   with a photo) and finished by a real Celery worker with the local providers, and 21 generations per user;
3. serves the service (`gunicorn tunee.wsgi`) and a bare Django view (`bench/bare.py`: the same settings, no
   middleware, one `JsonResponse`) with the same gunicorn settings, and loads them with wrk, alternating bare and
   endpoint `--rounds` times, every request with the next user's token (or the next fresh order, or work);
4. prints req/s, p50, p99, the ratio to the bare view of the same round (median over the rounds), errors
   (non-2xx answers and socket errors: there must be none), the SQL queries one request of each kind makes, and
   each endpoint's target ratio (issue 11) with whether this run met it; then a line saying how many were met;
5. measures the floors the same way (`bench/bare.py`: the session check alone, and the session check plus the
   quota's or the profile's query, with no middleware and no DRF): the most any implementation keeping those round
   trips could do.

The throttle rates are raised for the run (the throttles still run; they must not refuse a load test). Nothing here
is timed in a test: this is a measurement, run by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the standard library's `http` package: keep its folder off the import path.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import io
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.request
from contextlib import suppress

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
DB_NAME = "tunee_bench"
SERVICE_PORT = 8765
BARE_PORT = 8766
WRK_THREADS = 2
# The ratios to the bare view each endpoint must reach (issue 11).
TARGETS = {
    "GET /api/generation/quota": 0.5,
    "GET /api/user/me": 0.5,
    "GET /api/works?pageSize=20": 0.3,
    "GET /api/generation?pageSize=20": 0.3,
    "POST /api/generation/create": 0.2,
    "POST /api/works/:id/like": 0.2,
    "POST /api/payment/wechat/notify": 0.2,
}

LUA = r"""
local requests = {}
local index, step = 0, 1
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

function init(args)
  step = tonumber(os.getenv("BENCH_THREADS"))
  index = tid
  for line in io.lines(os.getenv("BENCH_REQUESTS")) do
    local method, path, token, ctype, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = {}
    if token ~= "" then headers["Authorization"] = "Bearer " .. token end
    if ctype ~= "" then headers["Content-Type"] = ctype end
    if body == "" then body = nil end
    requests[#requests + 1] = wrk.format(method, path, headers, body)
  end
end

function request()
  local r = requests[(index % #requests) + 1]
  index = index + step
  return r
end

function done(summary, latency, requests)
  io.write(string.format(
    "BENCH {\"requests\": %d, \"duration_us\": %d, \"p50_us\": %d, \"p99_us\": %d, \"status_errors\": %d, "
    .. "\"socket_errors\": %d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def production_env(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "AWS_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="tunee.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEYS=__import__("cryptography.fernet", fromlist=["Fernet"]).Fernet.generate_key().decode(),
        VAR_DIR=str(var_dir),
        MEDIA_ROOT=str(var_dir / "media"),
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        PUBLIC_BASE_URL=f"http://127.0.0.1:{SERVICE_PORT}",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        REDIS_URL="redis://127.0.0.1:6379/12",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/13",
        PAYMENT_SANDBOX="1",
        WECHAT_SANDBOX="1",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        THROTTLE_ANON_RATE="100000000/min",
        THROTTLE_USER_RATE="100000000/min",
        THROTTLE_UPLOAD_RATE="100000000/min",
        THROTTLE_NOTIFY_IP_RATE="100000000/min",
        PAYMENT_UNVERIFIED_NOTIFICATIONS_PER_HOUR="100000000",
        GENERATION_IN_FLIGHT_FREE="100000000",
        GENERATION_IN_FLIGHT_MEMBER="100000000",
        THROTTLE_GENERATION_RATE="100000000/min",
        LOG_LEVEL="WARNING",
    )
    return env


def sh(*args, env=None, check=True, **kwargs):
    return subprocess.run(args, cwd=ROOT, env=env, check=check, **kwargs)


def fresh_database_and_redis() -> None:
    sh("dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", DB_NAME)
    sh("createdb", "-h", "127.0.0.1", "-U", "postgres", DB_NAME)
    for db in ("12", "13"):
        sh("redis-cli", "-h", "127.0.0.1", "-n", db, "flushdb", stdout=subprocess.DEVNULL)


class Servers:
    def __init__(self, env: dict[str, str], workers: int):
        self.env, self.workers, self.children = env, workers, []

    def start(self, *args: str, log: Path) -> subprocess.Popen:
        child = subprocess.Popen(
            args, cwd=ROOT, env=self.env, start_new_session=True, stdout=log.open("w"), stderr=subprocess.STDOUT
        )
        self.children.append(child)
        return child

    def gunicorn(self, app: str, port: int, log: Path) -> None:
        self.start(
            PY, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}", "--workers", str(self.workers),
            *(["--config", str(ROOT / "gunicorn.conf.py")] if (ROOT / "gunicorn.conf.py").exists() else []),
            log=log,
        )  # fmt: skip

    def worker(self, log: Path) -> subprocess.Popen:
        from tunee.queues import worker_arg  # the one list of queue names

        queues = worker_arg()
        return self.start(
            PY, "-m", "celery", "-A", "tunee", "worker", "-Q", queues, "--concurrency", "2", "--loglevel", "WARNING",
            log=log,
        )  # fmt: skip

    def stop(self, child: subprocess.Popen | None = None) -> None:
        for each in [child] if child else list(self.children):
            if each.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(each.pid, signal.SIGTERM)
                try:
                    each.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    with suppress(ProcessLookupError):
                        os.killpg(each.pid, signal.SIGKILL)
            if each in self.children:
                self.children.remove(each)


def wait_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)  # our own loopback URL
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not come up")


# --- seeding (in this process, with the production settings) ---------------------------------------------------


def photo(n: int) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), ((n * 37) % 256, (n * 91) % 256, (n * 53) % 256))
    draw = ImageDraw.Draw(image)
    draw.ellipse((100 + n, 80, 400 + n, 380), fill=((n * 13) % 256, 200, 120))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def seed(args, servers: Servers, work_dir: Path) -> dict:
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from accounts.models import User
    from accounts.services import session_start
    from generation.models import Generation
    from membership.services import quota_set_daily_limit
    from works.models import Work

    users, tokens = [], []
    for n in range(args.users):
        user = User.objects.create_user(username=f"bench{n}", email=f"bench{n}@example.com", password=None)
        quota_set_daily_limit(user=user, limit=10**7, actor=None, reason="benchmark")
        users.append(user)
        tokens.append(session_start(user=user).access_token)

    worker = servers.worker(work_dir / "worker.log")
    client = Client()
    for n in range(args.works):
        response = client.post(
            "/api/works",
            {"image": SimpleUploadedFile(f"p{n}.jpg", photo(n), "image/jpeg"), "title": f"Bench song {n}"},
            HTTP_AUTHORIZATION=f"Bearer {tokens[n % len(tokens)]}",
        )
        assert response.status_code in (200, 201), response.content[:300]
    deadline = time.monotonic() + 600
    while Work.objects.filter(generation__status=Generation.Status.COMPLETED).count() < args.works:
        failed = Work.objects.filter(generation__status=Generation.Status.FAILED).count()
        if failed or time.monotonic() > deadline:
            raise SystemExit(f"works did not complete ({failed} failed); see {work_dir / 'worker.log'}")
        time.sleep(1)
    servers.stop(worker)

    # 21 generations per user in their history: finished rows sharing the files of a real finished song.
    done = Generation.objects.filter(status=Generation.Status.COMPLETED).first()
    copies = []
    for user in users:
        have = Generation.objects.filter(user=user).count()
        for i in range(max(0, 21 - have)):
            copies.append(
                Generation(
                    user=user, prompt=f"bench song {i}", style="pop", mood="happy", duration=30, title=f"Song {i}",
                    status=Generation.Status.COMPLETED, audio=done.audio.name, audio_hq=done.audio_hq.name,
                    cover=done.cover.name, result_title=f"Song {i}", result_duration=30.0,
                    queued_at=done.queued_at, completed_at=done.completed_at,
                )
            )  # fmt: skip
    Generation.objects.bulk_create(copies)

    work_ids = [str(pk) for pk in Work.objects.values_list("pk", flat=True)]
    return {"users": users, "tokens": tokens, "works": work_ids}


def wechat_notifications(users, count: int) -> list[str]:
    """`count` paid notifications of fresh pending orders, signed as WeChat Pay signs them (sandbox keys)."""
    from datetime import timedelta

    from django.utils import timezone

    from membership.models import PointPackage
    from payments.models import Order
    from payments_sandbox import keys, signing

    wechat = keys.wechat_keys()
    package = PointPackage.objects.filter(is_active=True).order_by("price_fen").first()
    now = timezone.now()
    orders = [
        Order(
            order_no=f"TN{timezone.localtime(now - timedelta(minutes=1 + n // 10_000)):%Y%m%d%H%M}{n % 10_000:04d}",
            user=users[n % len(users)], kind=Order.Kind.POINTS, package=package, points=package.points,
            subject=package.name, amount_fen=package.price_fen, payment_method=Order.Method.WECHAT,
            device=Order.Device.APP, trade_type="APP", created_at=now, expire_at=now + timedelta(hours=2),
        )
        for n in range(count)
    ]  # fmt: skip
    Order.objects.bulk_create(orders, batch_size=2000)
    bodies = []
    for n, order in enumerate(orders):
        params = {
            "appid": wechat.app_id, "bank_type": "OTHERS", "cash_fee": str(order.amount_fen), "fee_type": "CNY",
            "is_subscribe": "N", "mch_id": wechat.mch_id, "nonce_str": secrets.token_hex(16), "openid": "o_bench",
            "out_trade_no": order.order_no, "result_code": "SUCCESS", "return_code": "SUCCESS",
            "time_end": f"{timezone.localtime(now):%Y%m%d%H%M%S}", "total_fee": str(order.amount_fen),
            "trade_type": "APP", "transaction_id": f"42000{n:020d}",
        }  # fmt: skip
        params["sign"] = signing.wechat_sign(params, wechat.api_key)
        bodies.append(signing.wechat_xml(params).replace("\n", ""))
    return bodies


def queries_per_request(cases: list[dict]) -> dict[str, int]:
    """SQL queries of one request of each kind, through the whole stack in this process (after a warm-up)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client, counts = Client(), {}
    for case in cases:
        method, path, token, ctype, body = case["sample"]
        for attempt in range(2):
            headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
            with CaptureQueriesContext(connection) as captured:
                if method == "GET":
                    response = client.get(path, **headers)
                else:
                    response = client.post(path, data=body, content_type=ctype or "application/json", **headers)
            assert response.status_code < 400, (case["name"], response.status_code, response.content[:300])
            if attempt == 1:
                counts[case["name"]] = len(captured.captured_queries)
            if case.get("once"):  # a fresh order per request: the second sample is another order
                method, path, token, ctype, body = case["sample2"]
    return counts


# --- load ----------------------------------------------------------------------------------------------------


def wrk(port: int, path: str, requests_file: Path, lua: Path, args) -> dict:
    env = {**os.environ, "BENCH_REQUESTS": str(requests_file), "BENCH_THREADS": str(WRK_THREADS)}
    out = subprocess.run(
        ["wrk", "-t", str(WRK_THREADS), "-c", str(args.connections), "-d", f"{args.duration}s", "--timeout", "10s",
         "-s", str(lua), f"http://127.0.0.1:{port}{path}"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    result = json.loads(line[6:])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def write_requests(path: Path, rows) -> Path:
    with path.open("w") as f:
        for method, url, token, ctype, body in rows:
            f.write(f"{method}\t{url}\t{token}\t{ctype}\t{body}\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=8, help="seconds of each wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="bare/endpoint alternations per endpoint")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--works", type=int, default=24)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--only", default="", help="comma-separated endpoint names to run")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk (make bench installs it)")

    work_dir = Path(tempfile.mkdtemp(prefix="tunee-bench-"))
    env = production_env(work_dir / "var")
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    fresh_database_and_redis()
    sh(PY, "manage.py", "migrate", "--noinput", "-v", "0", env=env)
    sh(PY, "manage.py", "collectstatic", "--noinput", "-v", "0", env=env)
    servers = Servers(env, args.workers)
    try:
        print("seeding…", flush=True)
        seeded = seed(args, servers, work_dir)
        tokens, works = seeded["tokens"], seeded["works"]
        expected_rps = 2000
        notify_count = expected_rps * args.duration * args.rounds
        bodies = wechat_notifications(seeded["users"], notify_count + 2)
        create_body = json.dumps({"prompt": "a quiet song about the sea", "duration": 10})
        cases = [
            {"name": "GET /api/generation/quota", "path": "/api/generation/quota",
             "rows": [("GET", "/api/generation/quota", t, "", "") for t in tokens]},
            {"name": "GET /api/user/me", "path": "/api/user/me",
             "rows": [("GET", "/api/user/me", t, "", "") for t in tokens]},
            {"name": "GET /api/works?pageSize=20", "path": "/api/works?pageSize=20",
             "rows": [("GET", "/api/works?pageSize=20", t, "", "") for t in tokens]},
            {"name": "GET /api/generation?pageSize=20", "path": "/api/generation?pageSize=20",
             "rows": [("GET", "/api/generation?pageSize=20", t, "", "") for t in tokens]},
            {"name": "POST /api/generation/create", "path": "/api/generation/create",
             "rows": [("POST", "/api/generation/create", t, "application/json", create_body) for t in tokens]},
            {"name": "POST /api/works/:id/like", "path": "/api/works",
             "rows": [("POST", f"/api/works/{works[i % len(works)]}/like", t, "", "") for i, t in enumerate(tokens)]},
            {"name": "POST /api/payment/wechat/notify", "path": "/api/payment/wechat/notify", "once": True,
             "rows": [("POST", "/api/payment/wechat/notify", "", "text/xml", b) for b in bodies[2:]],
             "sample": ("POST", "/api/payment/wechat/notify", "", "text/xml", bodies[0]),
             "sample2": ("POST", "/api/payment/wechat/notify", "", "text/xml", bodies[1])},
        ]  # fmt: skip
        cases += [
            {"name": "floor: session check", "path": "/floor/session", "port": BARE_PORT, "floor": True,
             "rows": [("GET", "/floor/session", t, "", "") for t in tokens]},
            {"name": "floor: session check + quota query", "path": "/floor/quota", "port": BARE_PORT, "floor": True,
             "rows": [("GET", "/floor/quota", t, "", "") for t in tokens]},
            {"name": "floor: session check + profile query", "path": "/floor/profile", "port": BARE_PORT, "floor": True,
             "rows": [("GET", "/floor/profile", t, "", "") for t in tokens]},
        ]  # fmt: skip
        if args.only:
            wanted = {name.strip() for name in args.only.split(",")}
            cases = [case for case in cases if case["name"] in wanted or case["name"].split()[-1] in wanted]
        for case in cases:
            case.setdefault("sample", case["rows"][0])
        queries = queries_per_request([case for case in cases if not case.get("floor")])
        from django.db import connections

        connections.close_all()

        servers.gunicorn("tunee.wsgi", SERVICE_PORT, work_dir / "service.log")
        servers.gunicorn("bench.bare:application", BARE_PORT, work_dir / "bare.log")
        wait_up(f"http://127.0.0.1:{SERVICE_PORT}/healthz")
        wait_up(f"http://127.0.0.1:{BARE_PORT}/bare")
        lua = work_dir / "rotate.lua"
        lua.write_text(LUA)
        bare_rows = write_requests(work_dir / "bare.tsv", [("GET", "/bare", "", "", "")])
        rows = []
        for case in cases:
            requests_file = write_requests(work_dir / f"{abs(hash(case['name']))}.tsv", case["rows"])
            port = case.get("port", SERVICE_PORT)
            wrk(port, case["path"], requests_file, lua, argparse.Namespace(**{**vars(args), "duration": 2}))
            ratios, results, bare_results = [], [], []
            for _ in range(args.rounds):
                bare = wrk(BARE_PORT, "/bare", bare_rows, lua, args)
                result = wrk(port, case["path"], requests_file, lua, args)
                bare_results.append(bare)
                results.append(result)
                ratios.append(result["rps"] / bare["rps"])
            errors = sum(r["status_errors"] + r["socket_errors"] for r in results)
            rows.append(
                (
                    case["name"],
                    statistics.median(r["rps"] for r in results),
                    statistics.median(r["rps"] for r in bare_results),
                    statistics.median(ratios),
                    statistics.median(r["p50_us"] for r in results) / 1000,
                    statistics.median(r["p99_us"] for r in results) / 1000,
                    queries.get(case["name"], -1),
                    errors,
                )
            )
            print(f"  {case['name']}: {rows[-1][1]:.0f} req/s, ratio {rows[-1][3]:.3f}, errors {errors}", flush=True)
        print()
        print("| endpoint | req/s | bare view | ratio | target | met | p50 | p99 | queries | errors |")
        print("| --- | ---: | ---: | ---: | ---: | :---: | ---: | ---: | ---: | ---: |")
        met = []
        for name, rps, bare, ratio, p50, p99, count, errors in rows:
            target = TARGETS.get(name)
            if target is not None:
                met.append(ratio >= target)
            verdict = "" if target is None else "yes" if ratio >= target else "no"
            cells = (
                f"{rps:,.0f} | {bare:,.0f} | {ratio:.3f} | {'' if target is None else target} | {verdict} | "
                f"{p50:.1f} ms | {p99:.1f} ms | {'' if count < 0 else count} | {errors}"
            )
            print(f"| {name if name.startswith('floor') else f'`{name}`'} | {cells} |")
        print(
            f"\n{args.workers} gunicorn workers, wrk -t{WRK_THREADS} -c{args.connections}, {args.duration} s x "
            f"{args.rounds} rounds, {args.users} users' tokens rotating, {args.works} works; logs in {work_dir}"
        )
        if met:
            print(f"targets met: {sum(met)} of {len(met)}" + (" — every target met" if all(met) else ""))
        if any(row[-1] for row in rows):
            raise SystemExit("some requests were answered with an error")
    finally:
        servers.stop()


if __name__ == "__main__":
    main()
