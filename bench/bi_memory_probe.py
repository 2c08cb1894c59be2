"""Run one publication load in this process and report its peak memory.

The load is the module's own code (``fih.bi.load._run``), run directly
instead of by queue_job so that ``tracemalloc`` sees every allocation it
makes. Prints one JSON line: rows, seconds (slowed down by tracing), the
peak of traced Python memory, the peak of Arrow's memory pool (Parquet) and
the process's maximum resident size.
"""

import argparse
import json
import resource
import time
import tracemalloc

import pyarrow

import odoo
from odoo import SUPERUSER_ID, api


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conf", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--publication", type=int, required=True)
    parser.add_argument("--mode", choices=("full", "incremental", "period"))
    parser.add_argument("--period", help="a day of the month to publish")
    args = parser.parse_args()
    odoo.tools.config.parse_config(["-c", args.conf, "--log-level=warn", "--logfile="])
    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        publication = env["fih.bi.publication"].browse(args.publication)
        values = {"publication_id": publication.id, "mode": args.mode}
        if args.period:
            start, end = (
                env["fih.bi.period.wizard"]
                .new({"publication_id": publication.id, "month": args.period})
                ._period_bounds()
            )
            values.update(period_start=start, period_end=end)
        load = env["fih.bi.load"].create(
            {
                **values,
                "chunk_size": publication.chunk_size,
                "as_of": end_or_today(values),
            }
        )
        cr.commit()
        tracemalloc.start()
        started = time.perf_counter()
        load._run()
        seconds = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        cr.commit()  # end the snapshot taken before the load: read its outcome
        load.invalidate_recordset()
        print(
            json.dumps(
                {
                    "mode": args.mode,
                    "state": load.state,
                    "rows": load.rows + load.tombstones,
                    "traced_seconds": round(seconds, 2),
                    "peak_mib": round(peak / 2**20, 1),
                    # Arrow's buffers (Parquet) live outside Python's heap
                    "arrow_peak_mib": round(
                        pyarrow.default_memory_pool().max_memory() / 2**20, 1
                    ),
                    "max_rss_mib": round(
                        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
                    ),
                }
            )
        )


def end_or_today(values):
    return values.get("period_end") or time.strftime("%Y-%m-%d")


if __name__ == "__main__":
    main()
