"""``python -m operations.seed_scale [--only catalog,identity,courier] [--scale 1]``"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

from operations.seed_scale import PARTS, NotPostgres, seed
from operations.seed_scale.volumes import Volumes

# The services' modules import eventlet and nameko when the seed starts.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
warnings.filterwarnings("ignore", message=r"pkg_resources is deprecated")


def database_urls(parts) -> dict[str, str]:
    """Each part's database, named as ``make run`` names it."""
    from operations.local_cluster import LocalCluster
    from services.common.config import data_dir

    cluster = LocalCluster(data_dir=data_dir())
    return {part: cluster.database_url(part) for part in parts}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m operations.seed_scale", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--only", default=",".join(PARTS), help=f"some of {','.join(PARTS)} (default: all)"
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="a fraction of the volumes (default 1)"
    )
    args = parser.parse_args(argv)
    parts = [part.strip() for part in args.only.split(",") if part.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown or not parts:
        parser.error(f"--only takes some of {', '.join(PARTS)}")
    try:
        volumes = Volumes.at(args.scale)
    except ValueError as exc:
        parser.error(str(exc))
    parts = [part for part in PARTS if part in parts]
    print(f"seeding {', '.join(parts)} at scale {args.scale:g}: {volumes}")
    started = time.monotonic()
    try:
        outcomes = seed(database_urls(parts), volumes, parts)
    except NotPostgres as exc:
        print(exc, file=sys.stderr)
        return 2
    total = time.monotonic() - started
    added = sum(sum(outcome.added.values()) for outcome in outcomes)
    print(f"done in {total:.1f} s" + ("" if added else ": everything was in place already"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
