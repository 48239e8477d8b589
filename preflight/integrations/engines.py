"""Statistics computed where the data is: a Spark DataFrame or a Ray Dataset (extras ``spark``, ``ray``).

Both are a map over partitions and an ordered reduce on the partition-statistics core
(``preflight.stats.partition``). The driver decides the layout from the schema (the target as
``--target`` / ``target=`` or the usual names choose it); each partition is measured on the cluster
and sent back pickled (its moments, counts, runs, row hashes and a bounded sample: memory that does
not grow with its rows); the driver merges them one at a time in the dataset's order, so its memory
holds the merged statistics and one partition's. The probe then trains on the driver, on the merged
sample. The executors need preflight installed, as they need any library a job's functions use.

    preflight.check(spark.read.parquet("s3://bucket/train/"), target="label")   # mapInArrow
    preflight.check(ray.data.read_parquet("s3://bucket/train/"), target="label")  # map_batches

Row order is the dataset's: Spark's partitions in their index order (``toLocalIterator``), Ray's
blocks with ``preserve_order``. The sample keeps one common rate in every partition, without
knowing where a partition starts in the table (``preflight.stats.partition`` says what that changes).
"""

from __future__ import annotations

import itertools
import logging
import pickle
import re
from collections.abc import Iterable, Iterator
from typing import Any

from preflight.errors import PreflightError
from preflight.stats.partition import Layout, add_partition, as_frame, merge_statistics, table_layout
from preflight.stats.table import TableStats

SPARK_DISPLAY = "<Spark DataFrame>"
RAY_DISPLAY = "<Ray Dataset>"


def is_spark_frame(obj: Any) -> bool:
    return type(obj).__module__.startswith("pyspark.sql") and type(obj).__name__ == "DataFrame"


def is_ray_dataset(obj: Any) -> bool:
    return type(obj).__module__.startswith("ray.data") and hasattr(obj, "map_batches") and hasattr(obj, "schema")


def choose_layout(arrow_schema: Any, target: str | None, display: str, source: str) -> tuple[Layout, str]:
    from preflight.inputs.tabular import MAX_COLUMNS, choose_target, too_many_columns

    names = list(arrow_schema.names)
    if not names:
        raise PreflightError("has no columns", display)
    if len(names) > MAX_COLUMNS:
        raise too_many_columns(len(names), display)
    chosen, reason = choose_target(names, target, display, source)
    return table_layout(arrow_schema, chosen), reason


FILE_COLUMN = "__preflight_file__"  # the source file of each row, added for the per-shard target (PF205)
UNNAMED = ""  # the shard of rows read from no file: the driver numbers the partitions


def measure_batches(batches: Iterable[Any], layout: Layout, file_column: str | None = None) -> bytes:
    """One partition's statistics, pickled: what an executor sends the driver. ``file_column`` names
    the column holding each row's source file (dropped before measuring): the rows' shards."""
    stats = layout.start()
    for batch in batches:
        frame = _as_layout(as_frame(batch), layout)
        if file_column is None or file_column not in frame.columns:
            add_partition(stats, frame, layout, UNNAMED)
            continue
        files = frame.get_column(file_column).fill_null(UNNAMED)
        frame = frame.drop(file_column)
        starts = [*files.ne(files.shift(1)).fill_null(True).arg_true().to_list(), len(files)]  # runs of one file
        for a, b in itertools.pairwise(starts):
            add_partition(stats, frame.slice(a, b - a), layout, str(files[a]))
    return pickle.dumps(stats, protocol=pickle.HIGHEST_PROTOCOL)


def _as_layout(frame: Any, layout: Layout) -> Any:
    """A batch with the layout's column types (a file whose column type differs from the schema the
    driver saw), or a ValueError naming the column, which the driver's error line repeats."""
    import polars as pl

    want = layout.schema
    differ = {n: want[n] for n in frame.columns if n in want and frame.schema[n] != want[n]}
    if not differ:
        return frame
    try:
        return frame.cast(differ, strict=True)
    except (pl.exceptions.PolarsError, ValueError):
        raise ValueError(f"preflight: a column of type {', '.join(f'{n!r} {frame.schema[n]}' for n in differ)} "
                         f"in a partition, where the table's schema has {', '.join(map(str, differ.values()))}, "
                         "and its values do not convert") from None


def merged(pickled: Iterable[bytes], display: str, root: str | None = None, unit: str = "partition") -> TableStats:
    """Merge partitions' statistics in the order given, holding one partition's at a time. Shards
    read from files are named relative to ``root``; others are numbered ``unit 1``, ``unit 2``...
    An engine's failure while computing them (a corrupt file, a ragged CSV) is one error line."""
    from preflight.inputs.dataset import shard_name

    total: TableStats | None = None
    blobs = iter(pickled)
    for i in itertools.count():
        try:
            blob = next(blobs)
        except StopIteration:
            break
        except Exception as exc:  # Py4JJavaError, a RayTaskError: the cause's own line
            raise PreflightError(f"the engine failed reading it: {engine_error(exc)}", display) from None
        part = pickle.loads(blob)
        if part.shards is not None:
            names = {k: (f"{unit} {i + 1}" if k == UNNAMED else shard_name(k, root) if root else k)
                     for k in part.shards.shards}
            part.shards.shards = {names[k]: v for k, v in part.shards.shards.items()}
        total = part if total is None else merge_statistics(total, part)
    if total is None or total.n_rows == 0:
        raise PreflightError("has no rows; there is nothing to check", display)
    return total


# --- Spark ----------------------------------------------------------------------------------

def spark_statistics(df: Any, target: str | None, source: str = "target=", root: str | None = None,
                     display: str = SPARK_DISPLAY) -> tuple[TableStats, str]:
    """The merged statistics of a ``pyspark.sql.DataFrame`` (``mapInArrow``), and why its target is it.
    Each row's shard is its source file (``input_file_name``, relative to ``root``), else its partition."""
    from pyspark.sql import functions as F

    layout, reason = choose_layout(_spark_arrow_schema(df, display), target, display, source)

    def measure(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa  # type: ignore[import-untyped]

        yield pa.RecordBatch.from_pydict({"stats": [measure_batches(batches, layout, FILE_COLUMN)]},
                                         schema=pa.schema([("stats", pa.binary())]))

    with_files = df.withColumn(FILE_COLUMN, F.input_file_name())  # "" for rows read from no file
    rows = with_files.mapInArrow(measure, "stats binary").toLocalIterator()  # partition order, one at a time
    return merged((bytes(r["stats"]) for r in rows), display, root, "partition"), reason


def _spark_arrow_schema(df: Any, display: str) -> Any:
    try:
        from pyspark.sql.pandas.types import to_arrow_schema
    except ImportError as exc:  # pragma: no cover - pyspark without its Arrow support
        raise PreflightError(f"pyspark's Arrow support is missing ({exc}); install pytorch-preflight[spark]") from None
    try:
        return to_arrow_schema(df.schema)
    except TypeError as exc:
        raise PreflightError(f"has a column type Arrow cannot carry: {exc}", display) from None


# --- Ray Data -------------------------------------------------------------------------------

def ray_statistics(ds: Any, target: str | None, source: str = "target=", root: str | None = None,
                   file_column: str | None = None, display: str = RAY_DISPLAY) -> tuple[TableStats, str]:
    """The merged statistics of a ``ray.data.Dataset`` (``map_batches`` over whole blocks, in order).
    Each row's shard is its file when ``file_column`` holds it (``read_parquet(include_paths=True)``'s
    ``path``; relative to ``root``), else its block."""
    import ray.data

    schema = ds.schema()
    if schema is None:
        raise PreflightError("has no rows or no schema; there is nothing to check", display)
    arrow = getattr(schema, "base_schema", schema)
    if type(arrow).__module__.split(".")[0] != "pyarrow":
        arrow = _ray_arrow_schema(schema, display)
    if file_column is not None and file_column in arrow.names:
        arrow = arrow.remove(arrow.get_field_index(file_column))
    layout, reason = choose_layout(arrow, target, display, source)

    def measure(batch: Any) -> dict[str, list[bytes]]:
        return {"stats": [measure_batches([batch], layout, file_column)]}

    # a Dataset runs under the context it was made with (a copy); blocks in the dataset's order
    ctx = getattr(ds, "context", None) or ray.data.DataContext.get_current()
    before = ctx.execution_options.preserve_order
    ctx.execution_options.preserve_order = True
    try:
        out = ds.map_batches(measure, batch_format="pyarrow", batch_size=None, zero_copy_batch=True)
        return merged((r["stats"] for r in out.iter_rows()), display, root, "block"), reason
    finally:
        ctx.execution_options.preserve_order = before


def _ray_arrow_schema(schema: Any, display: str) -> Any:
    import pyarrow as pa

    try:
        return pa.schema([(n, t if isinstance(t, pa.DataType) else pa.from_numpy_dtype(t))
                          for n, t in zip(schema.names, schema.types)])
    except (TypeError, pa.ArrowNotImplementedError) as exc:
        raise PreflightError(f"has a column type Arrow cannot carry: {exc}", display) from None


# --- preflight check PATHS --engine spark|ray -------------------------------------------------

ENGINES = ("local", "spark", "ray")
_EXTRA = {"spark": ("pyspark", "spark"), "ray": ("ray.data", "ray")}


def require(engine: str) -> None:
    """One line naming the extra when ``--engine``'s library is not installed."""
    import importlib.util

    if engine not in _EXTRA:
        return
    module, extra = _EXTRA[engine]
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        raise PreflightError(f"--engine {engine} needs {module.split('.')[0]}: pip install "
                             f"\"pytorch-preflight[{extra}]\"")


def engine_report(paths: Iterable[str], engine: str, address: str | None, config: Any, run: Any) -> Any:
    """``preflight check PATHS --engine local|spark|ray``: the report of each path measured by ``engine``."""
    from preflight.engine import check_subjects, walk_for
    from preflight.inputs.options import ReadOptions

    read = ReadOptions(target=config.target, target_source=config.target_source, task=config.task,
                       task_source=config.task_source)
    return check_subjects(engine_subjects(paths, engine, address, read, walk_for(config)), config, run)


def engine_subjects(paths: Iterable[str], engine: str, address: str | None, options: Any,
                    walk: Any = None) -> list[Any]:
    """Makers of one table subject per path (a file, a folder or prefix of shards), each read and
    measured by ``engine`` ("local": in this process, ``preflight.inputs.dataset``; "spark": a session
    on ``address``, default local[*]; "ray": the cluster at ``address``, default a local Ray);
    ``options`` the ``ReadOptions`` (target, task), ``walk`` how a local folder is walked."""
    require(engine)

    def maker(path: str) -> Any:
        def make() -> Any:
            from preflight.inputs.dataset import dataset_subject
            from preflight.inputs.tabular import table_subject

            if engine == "local":
                return dataset_subject(path, options, walk)
            if engine == "spark":
                stats, reason = spark_statistics(_spark_read(path, address), options.target, options.target_source,
                                                 root=path, display=path)
            else:
                ds, files = _ray_read(path, address)
                stats, reason = ray_statistics(ds, options.target, options.target_source, root=path,
                                               file_column=files, display=path)
            return table_subject(stats, path=path, display=path, options=options, reason=reason)

        make.display = path  # type: ignore[attr-defined]  # an internal error's line names the path
        return make

    return [maker(p) for p in paths]


def _file_kind(path: str) -> tuple[str, dict[str, type]]:
    """"csv", "tsv" or "parquet": the one kind of the shards under ``path`` (a mix is an error line),
    and the Python type of each Hive partition key in their folder names, typed as Spark and the local
    reader type them (Ray reads them as text unless told)."""
    from preflight.inputs.dataset import hive_types, hive_values, shard_files, shard_kind

    files = shard_files(path)
    kinds = {shard_kind(name): name for name, _ in files}
    if len(kinds) > 1:
        raise PreflightError(f"mixes shards of {' and '.join(sorted(kinds))} ({', '.join(sorted(kinds.values()))}); "
                             "Spark and Ray read one kind: use --engine local, or keep one kind", path)
    types = hive_types(hive_values(name) for name, _ in files)
    return next(iter(kinds)), {k: int if t.is_integer() else float if t.is_float() else str for k, t in types.items()}


def _spark_read(path: str, master: str | None) -> Any:
    import os
    import sys

    from pyspark.sql import SparkSession

    kind, _ = _file_kind(path)
    if master is None or master.startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # local executors run this interpreter
    spark = (SparkSession.builder.master(master or "local[*]").appName("preflight")
             .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    spark.sparkContext.setLogLevel("OFF")  # the JVM's stack traces: the error line says what failed
    try:
        if kind == "parquet":
            return spark.read.parquet(path)
        return (spark.read.option("header", True).option("inferSchema", True).option("mode", "FAILFAST")
                .option("sep", "\t" if kind == "tsv" else ",").csv(path))
    except Exception as exc:  # AnalysisException: a missing path, not Parquet
        raise PreflightError(f"Spark could not read it: {engine_error(exc)}", path) from None


def _ray_read(path: str, address: str | None) -> tuple[Any, str | None]:
    """The Ray Dataset of ``path``, and the column that names each row's file (None when the data has a
    column ``path`` of its own, which Ray's ``include_paths`` would overwrite: then shards are blocks)."""
    import ray
    import ray.data

    kind, keys = _file_kind(path)
    for name, level in (("ray", logging.ERROR), ("ray.data", logging.CRITICAL)):  # its failures: our error line
        logging.getLogger(name).setLevel(level)
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    ray.data.DataContext.get_current().enable_progress_bars = False
    from ray.data.datasource.partitioning import Partitioning, PartitionStyle

    hive = Partitioning(PartitionStyle.HIVE, field_types=keys)
    try:
        if kind == "parquet":
            def read(p: str, **kw: Any) -> Any:
                return ray.data.read_parquet(p, partitioning=hive, **kw)
        else:
            import pyarrow.csv as pacsv  # type: ignore[import-untyped]

            def read(p: str, **kw: Any) -> Any:
                sep = pacsv.ParseOptions(delimiter="\t" if kind == "tsv" else ",")
                return ray.data.read_csv(p, parse_options=sep, partitioning=hive, **kw)
        if "path" in read(path).schema().names:
            return read(path), None
        return read(path, include_paths=True), "path"  # a "path" column: each row's shard
    except Exception as exc:  # a missing path, not Parquet
        raise PreflightError(f"Ray could not read it: {engine_error(exc)}", path) from None


def engine_error(exc: BaseException | None) -> str:
    """The line of an engine's exception that says what failed: preflight's own message from a worker,
    else the innermost "Caused by:" of a JVM error, else the last "SomethingError: ..." line of a
    worker's traceback, else the first line; with the file an outer error names, when it names one."""
    lines = _error_lines(exc)
    ours = [m[1] for line in lines if (m := re.match(r"^(?:[\w.]+: )*ValueError: preflight: (.+)$", line))]
    caused = [line[len("Caused by:"):].strip() for line in lines if line.startswith("Caused by:")]
    named = [line for line in lines if re.match(r"^[\w.]+(Error|Exception): ", line)]
    text = ours[0] if ours else (caused or named or lines or ["the engine failed"])[-1]
    files = [m[1] for line in lines if (m := re.search(r"reading file (\S+?)\.?(?:\s|$)", line))]
    if files and files[0] not in text:  # Spark names the file in an outer error only
        text = f"{text} (reading {files[0]})"
    return text if len(text) <= 300 else text[:297] + "..."


def _error_lines(exc: BaseException | None) -> list[str]:
    """The non-blank lines of an exception and of its causes (a RayTaskError's ``cause``, ``__cause__``)."""
    texts: list[str] = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        texts.append(str(exc))
        exc = getattr(exc, "cause", None) or exc.__cause__
    return [line.strip() for text in texts for line in text.strip().splitlines() if line.strip()]
