"""Process entry point of a service's outbox relay: ``python -m shared.relay <service>``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from shared.celery import make_celery
from shared.config import SERVICES, database_url
from shared.db import make_engine, make_sessionmaker
from shared.logging import configure_logging
from shared.outbox import Relay, RelayAlreadyRunning


def main(argv: list[str] | None = None) -> int:
    """Run the relay until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description="E-Case outbox relay")
    parser.add_argument("service", choices=[s for s in SERVICES if s != "gateway"])
    args = parser.parse_args(argv)
    configure_logging(f"{args.service}-relay")
    engine = make_engine(database_url(args.service))
    relay = Relay(args.service, make_sessionmaker(engine), make_celery(args.service))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        relay.run_forever(stop)
    except RelayAlreadyRunning as exc:
        logging.getLogger(__name__).error("%s", exc)
        return 3
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
