"""`backprop-lens serve | train | bench`."""

import argparse
import json
import logging
import sys
import time


def _bar(done: int, total: int, started: float, extra: str = "", width: int = 30) -> str:
    frac = done / total if total else 1.0
    elapsed = time.perf_counter() - started
    rate = done / elapsed if elapsed > 0 else 0.0
    eta = (total - done) / rate if rate else 0.0
    filled = int(frac * width)
    return (f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
            f"{frac:6.1%} {rate:7.0f} samples/s ETA {eta:5.1f}s {extra}")


def cmd_serve(args) -> None:
    import uvicorn

    from app.main import create_app
    from app.settings import Settings

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port),
                                   ("store", args.store)) if v is not None}
    settings = Settings(**overrides)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if settings.store.startswith("sqlite:///"):
        from pathlib import Path

        Path(settings.store[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    print(f"backprop-lens on http://{settings.host}:{settings.port} (store {settings.store})",
          flush=True)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                log_level="warning", access_log=False)


def _parse_overrides(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def cmd_train(args) -> int:
    from engine.config import make_config
    from engine.errors import EngineError
    from engine.stepper import Stepper
    from engine.train import train

    try:
        overrides = _parse_overrides(args.set)
        if args.lr is not None:
            overrides["learning_rate"] = args.lr
        config = make_config(args.preset, overrides)
        stepper = Stepper.create(config, args.seed)
        started = time.perf_counter()

        def progress(p):
            print(_bar(p.done, p.total, started, f"loss {p.loss:.4f}"), end="",
                  file=sys.stderr, flush=True)

        result = train(stepper, samples=args.samples, epochs=args.epochs if args.samples is None
                       else None, batch_size=args.batch_size, progress=progress)
    except EngineError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    print(file=sys.stderr)
    if result["error"]:
        print(f"error: {result['error']}", file=sys.stderr)
        return 1
    print(f"trained {result['done']} samples in {result['elapsed']:.1f}s "
          f"({result['samples_per_s']:.0f} samples/s), batch size {args.batch_size}")
    print(f"held-out accuracy: {result['accuracy']:.2%} (digits 8000-9999)")
    print("confusion matrix (rows: true digit, columns: predicted):")
    for digit, row in enumerate(result["confusion"]):
        print(f"  {digit}: " + " ".join(f"{v:4d}" for v in row))
    if args.json:
        print(json.dumps({k: result[k] for k in ("done", "elapsed", "samples_per_s",
                                                 "accuracy", "confusion")}))
    return 0


def cmd_bench(args) -> int:
    if args.server:
        from app import bench_server

        result = bench_server.run(clients=args.clients, store=args.store)
    else:
        from engine import bench

        result = bench.run(quick=args.quick)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:24s} {value}")
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="backprop-lens", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the web app")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--store", help="memory | sqlite:///path.db | redis://host:port/db")
    serve.set_defaults(func=cmd_serve)
    tr = sub.add_parser("train", help="train a network from the command line")
    tr.add_argument("--preset", default="seed")
    tr.add_argument("--epochs", type=float, default=1.0)
    tr.add_argument("--samples", type=int)
    tr.add_argument("--batch-size", type=int, default=1)
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--lr", type=float)
    tr.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a config key, e.g. --set kernels=8")
    tr.add_argument("--json", action="store_true", help="also print one JSON line")
    tr.set_defaults(func=cmd_train)
    bench = sub.add_parser("bench", help="measure engine speed")
    bench.add_argument("--json", action="store_true", help="one JSON line")
    bench.add_argument("--quick", action="store_true", help="fewer repetitions")
    bench.add_argument("--server", action="store_true",
                       help="HTTP latencies under concurrent clients instead of engine speed")
    bench.add_argument("--clients", type=int, default=16)
    bench.add_argument("--store", help="store URL for --server (default: a temporary SQLite)")
    bench.set_defaults(func=cmd_bench)
    args = parser.parse_args(argv)
    sys.exit(args.func(args) or 0)
