"""Object storage sources against a real S3 API: moto's standalone server on 127.0.0.1 (as
s3fs's own tests run), read through s3fs; gs:// and az:// for routing and errors only, through
an in-memory filesystem registered for their protocols (no emulator of theirs here)."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import urllib.request
from pathlib import Path

import pytest

import ikmeta

from .conftest import EXAMPLES, IN_CI, encode, moto_server, need_moto_server, run, scene

# The test extra installs s3fs: outside CI its absence skips these tests; in CI they run and fail.
if importlib.util.find_spec("s3fs") is None and not IN_CI:  # pragma: no cover
    pytest.skip("s3fs is not installed (pip install -e '.[test]')", allow_module_level=True)
PHOTOS = {
    "holiday/harbour.jpg": (EXAMPLES / "harbour.jpg").read_bytes(),
    "holiday/harbour_small.jpg": (EXAMPLES / "harbour_small.jpg").read_bytes(),
    "holiday/2024/scene.png": encode(scene((320, 240), seed=5), "PNG"),
    "holiday/2024/notes.txt": b"not an image",
    "holiday/.thumbs/harbour.jpg": (EXAMPLES / "harbour_small.jpg").read_bytes(),
    "badge.png": (EXAMPLES / "badge.png").read_bytes(),
    "big.bmp": encode(scene((800, 600), seed=6), "BMP"),
}
BULK = 1000


class Moto:
    """moto's S3 (and IAM) server, with an admin who made the buckets and a reader who may
    read only the ``photos`` bucket."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.admin = self._user("admin", "*", "*", first=True)
        # What real AWS allows by s3:GetObject and s3:ListBucket (HEAD of an object or bucket,
        # ListObjectsV2), moto from 5.2.6 checks under the operation's own name: the reader is
        # granted both spellings, and may still read the photos bucket only.
        self.reader = self._user(
            "reader",
            ["s3:GetObject", "s3:ListBucket", "s3:HeadObject", "s3:HeadBucket", "s3:ListObjectsV2"],
            ["arn:aws:s3:::photos", "arn:aws:s3:::photos/*"],
        )

    def client(self, service: str, user: dict[str, str] | None = None):
        import boto3

        keys = user or self.admin
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=keys["key"],
            aws_secret_access_key=keys["secret"],
        )

    def _user(self, name: str, actions, resources, first: bool = False) -> dict[str, str]:
        import boto3

        iam = (
            boto3.client(
                "iam",
                endpoint_url=self.endpoint,
                region_name="us-east-1",
                aws_access_key_id="setup",
                aws_secret_access_key="setup",
            )
            if first
            else self.client("iam")
        )
        iam.create_user(UserName=name)
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resources}],
        }
        iam.put_user_policy(UserName=name, PolicyName="access", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return {"key": key["AccessKeyId"], "secret": key["SecretAccessKey"]}

    def recording(self) -> None:
        for action in ("stop-recording", "reset-recording", "start-recording"):
            urllib.request.urlopen(
                urllib.request.Request(f"{self.endpoint}/moto-api/recorder/{action}", method="POST")
            ).read()

    def calls(self) -> list[tuple[str, str]]:
        """(method, URL) of each S3 request since recording began (not moto's own API)."""
        text = urllib.request.urlopen(f"{self.endpoint}/moto-api/recorder/download-recording").read().decode()
        calls = [json.loads(line) for line in text.splitlines() if line.strip()]
        return [(c["method"], c["url"]) for c in calls if "moto-api" not in c["url"]]

    def object_gets(self) -> list[str]:
        """The object GETs (not listings) since recording began."""
        text = urllib.request.urlopen(f"{self.endpoint}/moto-api/recorder/download-recording").read().decode()
        calls = [json.loads(line) for line in text.splitlines() if line.strip()]
        return [
            c["url"]
            for c in calls
            if c["method"] == "GET" and "list-type" not in c["url"] and "moto-api" not in c["url"]
        ]


@pytest.fixture(scope="module")
def moto_s3():
    need_moto_server()
    # After the 3 requests that make the admin, every request must be signed by a known user.
    with moto_server(enforce_auth_after=3) as (_, endpoint):
        yield from _filled(Moto(endpoint))


def _filled(moto: Moto):
    s3 = moto.client("s3")
    for bucket in ("photos", "private", "bulk"):
        s3.create_bucket(Bucket=bucket)
    for key, body in PHOTOS.items():
        s3.put_object(Bucket="photos", Key=key, Body=body)
    s3.put_object(Bucket="private", Key="secret.jpg", Body=PHOTOS["holiday/harbour.jpg"])
    tiny = [encode(scene((64, 48), seed=k), "JPEG") for k in range(10)]
    for k in range(BULK):
        s3.put_object(Bucket="bulk", Key=f"shots/{k:04d}.jpg", Body=tiny[k % 10])
    yield moto


@pytest.fixture
def s3(moto_s3, monkeypatch):
    """Credentials as the environment gives them (the admin's), and the endpoint as an option."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto_s3.admin["key"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto_s3.admin["secret"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return moto_s3


def ik(moto: Moto, *args: str, stdin: str | None = None):
    return run(*args, "--storage-option", f"endpoint_url={moto.endpoint}", stdin=stdin)


def local_copies(tmp_path: Path) -> Path:
    for key, body in PHOTOS.items():
        path = tmp_path / "photos" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return tmp_path / "photos"


def test_a_prefix_is_walked_like_a_folder(s3, tmp_path):
    result = ik(s3, "phash", "s3://photos/holiday/")
    assert result.exit_code == 0, result.stderr
    lines = [line.split("  ", 1) for line in result.stdout.splitlines()]
    assert [source for _, source in lines] == [
        "s3://photos/holiday/2024/scene.png",
        "s3://photos/holiday/harbour.jpg",
        "s3://photos/holiday/harbour_small.jpg",
    ]  # key order; the hidden .thumbs/ and the text file skipped
    folder = local_copies(tmp_path) / "holiday"
    on_disk = [line.split("  ", 1) for line in run("phash", str(folder)).stdout.splitlines()]
    local = {Path(source).relative_to(folder).as_posix(): h for h, source in on_disk}
    assert {source.removeprefix("s3://photos/holiday/"): h for h, source in lines} == local
    assert (
        result.stderr
        == "ikmeta: skipped 1 file in folders that are not images or videos ikmeta reads (1 .txt)\n"
    )
    hidden = ik(s3, "phash", "--hidden", "s3://photos/holiday")
    assert "s3://photos/holiday/.thumbs/harbour.jpg" in hidden.stdout


def test_an_object_gives_the_object_its_file_gives(s3):
    result = ik(s3, "inspect", "s3://photos/holiday/harbour.jpg")
    assert result.exit_code == 0, result.stderr
    remote = json.loads(result.stdout)  # one object, as for one file
    local = json.loads(run("inspect", str(EXAMPLES / "harbour.jpg")).stdout)
    assert remote == {**local, "source": "s3://photos/holiday/harbour.jpg"}
    whole_bucket = json.loads(ik(s3, "inspect", "s3://photos").stdout)
    assert len(whole_bucket) == 5 and whole_bucket[0]["source"] == "s3://photos/badge.png"


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("s3://photos/holiday/missing.jpg", "no such object"),
        ("s3://photos/nothing-here/", "no such object or prefix"),
        ("s3://no-such-bucket/a.jpg", "no such bucket"),
        ("s3://", "no bucket named (s3://BUCKET/KEY)"),
    ],
)
def test_missing_objects_are_one_line(s3, source, reason):
    result = ik(s3, "phash", source, str(EXAMPLES / "badge.png"))
    assert result.exit_code == 1
    assert result.stderr == f"ikmeta: {source}: {reason}\n"
    assert result.stdout.endswith("badge.png\n")  # the other sources are still done


def test_access_denied_is_one_line(s3):
    reader = [
        "--storage-option",
        f"key={s3.reader['key']}",
        "--storage-option",
        f"secret={s3.reader['secret']}",
    ]
    allowed = ik(s3, "phash", *reader, "s3://photos/badge.png")
    assert allowed.exit_code == 0, allowed.stderr
    denied = ik(s3, "phash", *reader, "s3://private/secret.jpg", "s3://private/")
    assert denied.exit_code == 1 and denied.stdout == ""
    lines = denied.stderr.splitlines()
    assert len(lines) == 2 and all(
        re.fullmatch(r"ikmeta: s3://private/\S*: access denied \(.+\)", line) for line in lines
    )


def test_a_prefix_of_a_thousand_objects(s3):
    result = ik(s3, "phash", "--ndjson", "s3://bulk/shots/")
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["source"] for r in records] == [f"s3://bulk/shots/{k:04d}.jpg" for k in range(BULK)]
    assert len({r["pHash"] for r in records}) == 10
    assert all(r["mtimeNs"] is not None for r in records)  # the objects' LastModified, for ranking


def test_second_run_downloads_nothing(s3, tmp_path):
    cache = str(tmp_path / "cache.sqlite3")
    s3.recording()
    first = ik(s3, "dupes", "--json", "--cache", cache, "s3://photos/holiday/", "s3://bulk/shots/")
    assert first.exit_code == 0, first.stderr
    assert len(s3.object_gets()) == 3 + BULK
    s3.recording()
    second = ik(s3, "dupes", "--json", "--cache", cache, "s3://photos/holiday/", "s3://bulk/shots/")
    assert s3.object_gets() == [] and second.stdout == first.stdout
    groups = json.loads(second.stdout)
    assert groups[0]["files"][0]["source"] == "s3://photos/holiday/harbour.jpg" and len(groups) == 11


def test_an_overwritten_object_is_hashed_again(s3, tmp_path):
    cache = str(tmp_path / "cache.sqlite3")
    client = s3.client("s3")
    client.put_object(Bucket="photos", Key="changing.png", Body=encode(scene((200, 150), seed=1), "PNG"))
    before = ik(
        s3, "dupes", "--ndjson", "--cache", cache, "-q", "s3://photos/changing.png", "s3://photos/badge.png"
    )
    assert before.exit_code == 0
    client.put_object(Bucket="photos", Key="changing.png", Body=encode(scene((200, 150), seed=9), "PNG"))
    s3.recording()
    after = ik(s3, "phash", "--ndjson", "s3://photos/changing.png")
    assert len(s3.object_gets()) == 1 and after.exit_code == 0
    s3.recording()
    ik(s3, "dupes", "--cache", cache, "-q", "s3://photos/changing.png", "s3://photos/badge.png")
    assert s3.object_gets() == [f"{s3.endpoint}/photos/changing.png"]  # badge.png came from the cache
    client.delete_object(Bucket="photos", Key="changing.png")


def test_an_object_too_big_is_refused_before_it_is_read(s3):
    s3.recording()
    result = ik(s3, "phash", "--max-bytes", "100k", "s3://photos/big.bmp")
    size = len(PHOTOS["big.bmp"])
    assert (
        result.stderr
        == f"ikmeta: s3://photos/big.bmp: object of {size} bytes is over the --max-bytes limit of 100000\n"
    )
    assert s3.object_gets() == []


def test_storage_options_are_checked(s3):
    for value in ("no-equals", "=x", "two words=x"):
        result = run("phash", "--storage-option", value, "s3://photos/badge.png")
        assert result.exit_code == 2 and "--storage-option" in result.stderr
    bad_json = run("phash", "--storage-option", "client_kwargs={nope", "s3://photos/badge.png")
    assert bad_json.exit_code == 2 and "not a JSON object" in bad_json.stderr


def test_timeout_and_retries_reach_the_stores_library():
    from ikmeta.sources.base import FetchOptions
    from ikmeta.sources.stores import _library_options

    fetch = FetchOptions(timeout=7.0, retries=2)
    assert _library_options("s3", fetch) == {
        "config_kwargs": {
            "connect_timeout": 7.0,
            "read_timeout": 7.0,
            "retries": {"total_max_attempts": 3, "mode": "standard"},
        }
    }
    assert _library_options("gcs", fetch) == {"requests_timeout": 7.0}
    assert _library_options("abfs", FetchOptions(timeout=7.4)) == {"connection_timeout": 7, "read_timeout": 7}
    merged = _library_options("s3", FetchOptions(storage_options=(("config_kwargs", {"read_timeout": 1}),)))
    assert merged["config_kwargs"]["read_timeout"] == 1 and merged["config_kwargs"]["connect_timeout"] == 30.0


def test_an_object_changed_after_its_listing_is_not_cached(s3):
    """Its listing's version must be the version read: a single-part ETag is the bytes' MD5;
    another version is asked for again after the read."""
    from ikmeta.sources.base import FetchOptions
    from ikmeta.sources.stores import ObjectInfo, ObjectURL, _read_version, read_object, walk_prefix

    client = s3.client("s3")
    first, second = (encode(scene((200, 150), seed=k), "BMP") for k in (1, 2))  # the same size
    client.put_object(Bucket="photos", Key="racing/a.bmp", Body=first)
    fetch = FetchOptions(storage_options=(("endpoint_url", s3.endpoint),))
    (listed,) = walk_prefix("s3://photos/racing/", False, __import__("collections").Counter(), fetch)
    assert isinstance(listed, ObjectURL) and listed.info.size == len(first)
    assert read_object(listed, fetch).version == listed.info.version  # as listed: filed under it
    client.put_object(Bucket="photos", Key="racing/a.bmp", Body=second)  # after the listing
    assert read_object(listed, fetch).version is None  # another version's bytes: not cached

    class Store:  # a store whose versions are not MD5s
        def __init__(self, now):
            self.now = now

        def invalidate_cache(self, path):
            pass

        def info(self, path):
            return {"size": 3, "VersionId": self.now, "type": "file"}

    listed_info = ObjectInfo(3, "v1", None)
    assert _read_version(Store("v1"), "b/k", listed_info, b"abc") == "v1"
    assert _read_version(Store("v2"), "b/k", listed_info, b"abc") is None
    assert _read_version(Store("v1"), "b/k", listed_info, b"abcd") is None  # not the listed size
    client.delete_object(Bucket="photos", Key="racing/a.bmp")


def test_named_objects_are_looked_up_once_and_side_by_side(s3, tmp_path):
    cache = str(tmp_path / "cache.sqlite3")
    named = [
        "s3://photos/holiday/harbour.jpg",
        "s3://photos/holiday/harbour_small.jpg",
        "s3://photos/badge.png",
    ]
    s3.recording()
    assert ik(s3, "dupes", "--json", "--cache", cache, *named).exit_code == 0
    calls = s3.calls()
    assert sorted(m for m, _ in calls) == ["GET"] * 3 + ["HEAD"] * 3  # a HEAD and a GET each
    s3.recording()
    ik(s3, "dupes", "--json", "--cache", cache, *named)
    assert sorted(m for m, _ in s3.calls()) == ["HEAD"] * 3


def test_a_prefix_named_like_an_image_is_refused_not_half_printed(s3):
    client = s3.client("s3")
    for k in (1, 2):
        client.put_object(Bucket="photos", Key=f"odd/multi.jpg/{k}.png", Body=PHOTOS["badge.png"])
    result = ik(s3, "inspect", "s3://photos/odd/multi.jpg")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (
        "ikmeta: s3://photos/odd/multi.jpg: is a prefix (a folder), not an object: end it with / to walk it\n"
    )
    assert len(json.loads(ik(s3, "inspect", "s3://photos/odd/multi.jpg/").stdout)) == 2
    for k in (1, 2):
        client.delete_object(Bucket="photos", Key=f"odd/multi.jpg/{k}.png")


def test_storage_option_values():
    from ikmeta.cli.types import storage_value

    def fail(message):
        raise AssertionError(message)

    assert storage_value("012345678901", fail) == "012345678901"  # an account number stays text
    assert storage_value('"true"', fail) == "true" and storage_value("true", fail) is True
    assert storage_value("-1.5", fail) == -1.5 and storage_value("9" * 30, fail) == "9" * 30
    assert storage_value('{"region_name": "eu-west-1"}', fail) == {"region_name": "eu-west-1"}


def test_python_api_reads_objects(s3):
    options = {"endpoint_url": s3.endpoint}
    assert ikmeta.phash("s3://photos/holiday/harbour.jpg", storage_options=options) == ikmeta.phash(
        EXAMPLES / "harbour.jpg"
    )
    groups = ikmeta.find_duplicates(["s3://photos/holiday/"], cache=False, storage_options=options)
    assert [item.source for item, _ in groups[0].members] == [
        "s3://photos/holiday/harbour.jpg",
        "s3://photos/holiday/harbour_small.jpg",
    ]


def test_distance_and_review_take_objects(s3, tmp_path):
    result = ik(s3, "distance", "s3://photos/holiday/harbour.jpg", str(EXAMPLES / "harbour.jpg"))
    assert result.stdout == "0\n"
    page = tmp_path / "review.html"
    made = ik(s3, "dupes", "s3://photos/holiday/", "--html", str(page), "--no-cache", "-q")
    assert made.exit_code == 0, made.stderr
    assert "without a thumbnail" not in made.stderr and page.stat().st_size > 10_000


# --- gs:// and az://: routing and errors, through an in-memory filesystem ----------------------


@pytest.fixture
def fake_stores():
    """gcsfs and adlfs stand-ins: fsspec's memory filesystem registered for their protocols."""
    import fsspec
    from fsspec.implementations.memory import MemoryFileSystem

    class Store(MemoryFileSystem):
        store: dict = {}  # noqa: RUF012 - fsspec's own class attribute, one store a class
        pseudo_dirs: list = [""]  # noqa: RUF012

        def __init__(self, *args, **options):
            super().__init__()
            type(self).seen.append(options)

        @classmethod
        def _strip_protocol(cls, path):  # as gcsfs and adlfs: without the scheme
            return super()._strip_protocol(path.split("://", 1)[-1])

    class Gcs(Store):
        protocol = ("gcs", "gs")
        store: dict = {}  # noqa: RUF012
        seen: list = []  # noqa: RUF012

    class Abfs(Store):
        protocol = ("abfs", "az")
        store: dict = {}  # noqa: RUF012
        seen: list = []  # noqa: RUF012

        @classmethod
        def _strip_protocol(cls, path):  # as adlfs: container@account.host/path is container/path
            path = path.split("://", 1)[-1]
            head, _, rest = path.partition("/")
            return super()._strip_protocol(f"{head.split('@')[0]}/{rest}")  # (Store's: the scheme)

        @staticmethod
        def _get_kwargs_from_urls(url):
            head = url.split("://", 1)[-1].split("/", 1)[0]
            return {"account_name": head.split("@")[1].split(".")[0]} if "@" in head else {}

    for cls in (Gcs, Abfs):
        fsspec.register_implementation(cls.protocol[0], cls, clobber=True)
        cls.clear_instance_cache()
    Gcs().pipe("/pics/a/harbour.jpg", PHOTOS["holiday/harbour.jpg"])
    Abfs().pipe("/container/b/badge.png", PHOTOS["badge.png"])
    yield Gcs, Abfs
    registry = importlib.import_module("fsspec.registry")._registry  # (fsspec.registry is its read-only view)
    for protocol in ("gcs", "abfs"):
        registry.pop(protocol, None)  # gcsfs and adlfs, if installed, are found again


def test_other_stores_are_routed_to_their_libraries(fake_stores):
    gcs, abfs = fake_stores
    result = run(
        "phash",
        "gs://pics/a/",
        "az://container/b/badge.png",
        "--timeout",
        "9",
        "--storage-option",
        "project=p1",
    )
    assert result.exit_code == 0, result.stderr
    assert [line.split("  ")[1] for line in result.stdout.splitlines()] == [
        "gs://pics/a/harbour.jpg",
        "az://container/b/badge.png",
    ]
    assert {"requests_timeout": 9.0, "project": "p1"} in gcs.seen
    assert {"connection_timeout": 9, "read_timeout": 9, "project": "p1"} in abfs.seen


def test_a_store_without_its_library_says_what_to_install(monkeypatch):
    import fsspec

    def missing(protocol):
        raise ImportError(f"Install {protocol}'s package")

    monkeypatch.setattr(fsspec, "get_filesystem_class", missing)
    result = run("phash", "gs://pics/a.jpg", "az://c/b.jpg", "abfss://c@acct.dfs.core.windows.net/x/")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "ikmeta: gs://pics/a.jpg: reading gs:// needs gcsfs: pip install 'ikmeta[gcs]'",
        "ikmeta: az://c/b.jpg: reading az:// needs adlfs: pip install 'ikmeta[azure]'",
        "ikmeta: abfss://c@acct.dfs.core.windows.net/x/: reading abfss:// needs adlfs: pip install 'ikmeta[azure]'",
    ]


def test_unknown_schemes_still_refused():
    result = run("phash", "ftp://example.com/a.jpg")
    assert result.exit_code == 1
    assert (
        "unsupported URL scheme 'ftp' (ikmeta reads http://, https://, s3://, gs:// and az://)"
        in result.stderr
    )


def test_apply_leaves_stored_objects_alone(s3, tmp_path):
    report = tmp_path / "report.json"
    made = ik(s3, "dupes", "--json", "--no-cache", "-q", "s3://photos/holiday/")
    report.write_text(made.stdout)
    result = run("apply", "trash", str(report), "--yes", "--journal", str(tmp_path / "journal.jsonl"))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "ikmeta: s3://photos/holiday/harbour.jpg: the file to keep is a URL or stored object: "
        "ikmeta acts only on files on this machine; group 1 skipped"
    )
    s3.recording()
    assert ik(s3, "phash", "s3://photos/holiday/harbour_small.jpg").exit_code == 0  # still there


def test_an_azure_url_keeps_its_account(fake_stores):
    _, abfs = fake_stores
    result = run("phash", "abfss://container@acct.dfs.core.windows.net/b/")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split("  ")[1].strip() == "abfss://container@acct.dfs.core.windows.net/b/badge.png"
    assert any(options.get("account_name") == "acct" for options in abfs.seen)
