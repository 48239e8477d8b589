"""Data in an object store or behind a URL (``preflight.inputs.remote``), against servers the tests
start: moto's S3 server (its server mode, on a free local port) and Python's own HTTP server."""

from __future__ import annotations

import gzip
import http.server
import json
import subprocess
import sys
import threading
from functools import partial

import pytest

from tests.conftest import ROOT, run_cli

pytest.importorskip("pyarrow")
moto_server = pytest.importorskip("moto.server")

EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def s3_server():
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_server, monkeypatch):
    """A bucket ``data`` with two example tables under ``runs/``, one nested, a Parquet copy, a gzip copy
    and a text file; the AWS variables point the S3 client at the local server."""
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                 "AWS_ENDPOINT_URL": s3_server, "AWS_EC2_METADATA_DISABLED": "true"}.items():
        monkeypatch.setenv(k, v)
    import polars as pl
    from pyarrow import fs

    store = fs.S3FileSystem(endpoint_override=s3_server, allow_bucket_creation=True, region="us-east-1")
    store.create_dir("data")
    objects = {"runs/heart_rate.csv": (EXAMPLES / "heart_rate.csv").read_bytes(),
               "runs/2024/sorted_by_label.csv": (EXAMPLES / "sorted_by_label.csv").read_bytes(),
               "runs/readme.txt": b"not data\n",
               "gz/heart_rate.csv.gz": gzip.compress((EXAMPLES / "heart_rate.csv").read_bytes()),
               "odd names/my file #1.csv": (EXAMPLES / "heart_rate.csv").read_bytes(),
               "runs/build/old.csv": (EXAMPLES / "heart_rate.csv").read_bytes(),
               "runs/scratch.tmp.csv": (EXAMPLES / "heart_rate.csv").read_bytes()}
    for key, body in objects.items():
        with store.open_output_stream(f"data/{key}", compression=None) as out:  # stored as given
            out.write(body)
    with store.open_output_stream("data/pq/heart_rate.parquet") as out:
        pl.read_csv(EXAMPLES / "heart_rate.csv").write_parquet(out)
    return store


def test_a_prefix_is_a_folder_and_its_objects_are_checked_in_key_order(bucket):
    """Bare-name excludes apply as in a folder: ``build`` by default, ``*.tmp.csv`` given here."""
    r = run_cli(["check", "--no-probe", "--extend-exclude", "*.tmp.csv", "s3://data/runs/"])
    assert r.code == 1, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("s3://data/runs/2024/sorted_by_label.csv: PF201 label-sorted-rows [label] ")
    assert lines[1].startswith("s3://data/runs/heart_rate.csv: PF101 unnormalized-feature [heart_rate] mean 91.42")
    assert lines[-1] == ("Found 2 problems in 2 files (0 errors, 2 warnings, 0 info); "
                         "1 file skipped (unsupported type).")
    assert r.stderr == ""


def test_without_the_excludes_every_object_under_the_prefix_is_read(bucket):
    r = run_cli(["check", "--no-probe", "--exclude", "none-such", "s3://data/runs/"])
    assert [line.split(": ")[0] for line in r.stdout.splitlines()[:-1]] == [
        "s3://data/runs/2024/sorted_by_label.csv", "s3://data/runs/build/old.csv", "s3://data/runs/heart_rate.csv",
        "s3://data/runs/scratch.tmp.csv"]


def test_an_object_gives_the_findings_of_the_same_file_on_disk(bucket):
    def findings(path: str) -> list[tuple]:
        r = run_cli(["check", "--no-probe", "--format", "json", path])
        return [(f["code"], f["column"], f["message"]) for f in json.loads(r.stdout)["findings"]]

    for key, local in (("runs/heart_rate.csv", "heart_rate.csv"), ("runs/2024/sorted_by_label.csv",
                                                                    "sorted_by_label.csv")):
        assert findings(f"s3://data/{key}") == findings(str(EXAMPLES / local)) != []
    # the same rows as gzip-compressed CSV and as Parquet
    assert findings("s3://data/gz/heart_rate.csv.gz") == findings("s3://data/pq/heart_rate.parquet") == \
        findings(str(EXAMPLES / "heart_rate.csv"))


def test_any_key_under_a_prefix_is_read_where_it_was_listed(bucket, s3_server, monkeypatch):
    """Keys are not URLs: a space or a # in one is read as listed; the query's options (here the
    endpoint, with the variable unset) apply to every object under the prefix; the scheme's case does
    not matter."""
    r = run_cli(["check", "--no-probe", "s3://data/odd%20names/"])  # a URL is percent-encoded; keys are not
    assert r.stdout.startswith("s3://data/odd names/my file #1.csv: PF101 unnormalized-feature"), r.stdout + r.stderr
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    host = s3_server.removeprefix("http://")
    r = run_cli(["check", "--no-probe", f"S3://data/runs/?endpoint_override={host}&scheme=http"])
    assert r.code == 1, r.stdout + r.stderr
    assert [line.split(":", 2)[1] for line in r.stdout.splitlines()[:2]] == [
        "//data/runs/2024/sorted_by_label.csv", "//data/runs/heart_rate.csv"]


def test_per_file_ignores_sarif_and_the_probe_command_take_urls(bucket, tmp_path):
    (tmp_path / "preflight.toml").write_text('[tool.preflight.per-file-ignores]\n"s3://data/runs/*" = ["PF101"]\n')
    r = run_cli(["check", "--no-probe", "s3://data/runs/heart_rate.csv", "s3://data/pq/heart_rate.parquet"],
                cwd=tmp_path)
    assert [line.split(": ")[0:2] for line in r.stdout.splitlines()[:-1]] == [
        ["s3://data/pq/heart_rate.parquet", "PF101 unnormalized-feature [heart_rate] mean 91.42 (|mean| > 5), std "
         "11.72 (> 10); a network expects inputs near mean 0, std 1"]]
    sarif = json.loads(run_cli(["check", "--no-probe", "--format", "sarif", "s3://data/pq/heart_rate.parquet"]).stdout)
    location = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "s3://data/pq/heart_rate.parquet"}
    probe = run_cli(["probe", "--rule", "PF101", "s3://data/runs/heart_rate.csv"])
    assert probe.code == 0 and probe.stdout.startswith("s3://data/runs/heart_rate.csv: PF101 probe confirmed")
    prefix = run_cli(["probe", "--rule", "PF101", "s3://data/runs/"])
    assert prefix.stderr == ("error: s3://data/runs/heart_rate.csv: is a shard with other columns than the first "
                             "shard '2024/sorted_by_label.csv': it lacks 'f0', 'f1', 'f2'; the shards of one table "
                             "share their columns\n")  # a prefix is one table of shards
    one = run_cli(["probe", "--rule", "PF101", "s3://data/runs"])
    assert one.stderr == "error: s3://data/runs: names 3 objects; the probe trains on one: name its key\n"


def test_the_library_call_reads_a_url_and_the_probe_trains_on_its_rows(bucket):
    import preflight

    report = preflight.check("s3://data/runs/heart_rate.csv", config={"probe": {"cache": False}})
    [f] = report.findings
    assert (f.code, f.location.path, f.probe.verdict, f.probe.data) == (
        "PF101", "s3://data/runs/heart_rate.csv", "confirmed", "user")


@pytest.mark.parametrize("url, message", [
    ("s3://data/runs/missing.csv", "no such object or prefix (check the bucket, the key and the credentials)"),
    ("s3://data/nothing/", "holds no objects (no such prefix, or an empty one: check the bucket, the prefix and "
                           "the credentials)"),
    ("s3://data/runs/readme.txt", "is not a file type preflight reads (a prefix? end it with /)"),
    ("s3://", "names no bucket; give s3://bucket/key or s3://bucket/prefix/"),
    ("s3://data//runs/x.csv", "cannot be listed (Empty path component in path data//runs/x.csv)"),
])
def test_a_url_that_cannot_be_checked_is_one_error_line(bucket, url, message):
    r = run_cli(["check", "--no-probe", url])
    assert (r.code, r.stdout, r.stderr) == (2, "", f"error: {url}: {message}\n")


def test_a_store_not_read_yet_is_one_line_at_once():
    r = run_cli(["check", "--no-probe", "gs://bucket/data.csv"])
    assert (r.code, r.stdout) == (2, "")
    assert r.stderr == ("error: gs://bucket/data.csv: is in an object store preflight does not read yet (it reads "
                        "s3:// and https://); copy the data locally, or to S3\n")


def test_an_unreadable_object_among_others_does_not_stop_the_rest(bucket):
    r = run_cli(["check", "--no-probe", "s3://data/runs/missing.csv", "s3://data/runs/heart_rate.csv"])
    assert r.code == 2
    assert "s3://data/runs/heart_rate.csv: PF101 unnormalized-feature" in r.stdout
    assert r.stderr.startswith("error: s3://data/runs/missing.csv: no such object or prefix")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # the server's request log would land in the CLI's stderr
        pass

    def do_GET(self) -> None:
        body = (EXAMPLES / "heart_rate.csv").read_bytes()
        if self.path.startswith("/cut.csv"):  # announces the whole file, sends a tenth, hangs up
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 10])
            self.close_connection = True
        elif self.path.startswith("/login.csv"):  # a login page where the file was expected
            page = b"<html><body>Sign in</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
        else:
            super().do_GET()


@pytest.fixture
def web():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(EXAMPLES)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_web_url_is_one_file(web):
    r = run_cli(["check", "--no-probe", f"{web}/heart_rate.csv"])
    assert r.code == 1
    assert r.stdout.startswith(f"{web}/heart_rate.csv: PF101 unnormalized-feature [heart_rate] mean 91.42")
    missing = run_cli(["check", "--no-probe", f"{web}/missing.csv"])
    assert missing.code == 2
    assert missing.stderr == f"error: {web}/missing.csv: cannot be fetched (HTTP Error 404: File not found)\n"
    assert run_cli(["check", "--no-probe", f"{web}/heart_rate.csv#top"]).code == 1  # a fragment is no suffix
    size = len((EXAMPLES / "heart_rate.csv").read_bytes())
    cut = run_cli(["check", "--no-probe", f"{web}/cut.csv"])
    assert (cut.code, cut.stdout) == (2, "")
    assert cut.stderr == (f"error: {web}/cut.csv: could not be fetched whole (got {size // 10:,} of {size:,} "
                          "bytes)\n")
    login = run_cli(["check", "--no-probe", f"{web}/login.csv"])
    assert login.stderr == (f"error: {web}/login.csv: answered with a web page (text/html, from {web}/login.csv), "
                            "not the data file: is it a download link, or behind a login?\n")
    odd = run_cli(["check", "--no-probe", f"{web}/index.html"])
    assert odd.stderr == f"error: {web}/index.html: does not name a file type preflight reads by its extension\n"


def test_without_pyarrow_an_object_store_url_is_one_line_naming_the_extra(tmp_path):
    program = ("import sys\nsys.modules['pyarrow'] = None\nfrom preflight.cli import main\n"
               "main(['check', '--no-probe', 's3://data/x.csv'])\n")
    proc = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == ('error: s3://data/x.csv: reading an object store needs pyarrow: '
                           'pip install "pytorch-preflight[s3]"\n')
