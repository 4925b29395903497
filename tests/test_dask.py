"""ikmeta.dask on a LocalCluster of two worker processes: the hash table holds what the CLI
prints (a folder, and a bucket on moto's S3 server), grouping gives exactly the single
machine's groups (both linkages, a cluster of 20,000 identical hashes among 200,000), a
worker killed mid-run is survived, and `phash --dask` / `dupes --dask` round trip."""

from __future__ import annotations

import functools
import json
import os
import random
import signal
import time
from pathlib import Path

import numpy as np
import pytest

import ikmeta

from .conftest import EXAMPLES, IN_CI, encode, moto_server, need, need_moto_server, run, scene
from .test_neighbors import planted

try:
    import dask
    import dask.dataframe as dd
    import pandas as pd
    from distributed import Client, LocalCluster
except ImportError:  # the test extra installs dask
    dask = None

need(dask is not None, "dask[distributed,dataframe] (the test extra)")
if dask is None and not IN_CI:  # pragma: no cover
    pytest.skip("dask is not installed", allow_module_level=True)

import ikmeta.dask as on_dask  # noqa: E402  (needs dask)


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 server with a bucket of photos; credentials in the environment before the
    cluster starts, so that its worker processes have them too."""
    need_moto_server()
    saved = {
        k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
    }
    os.environ.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
    with moto_server() as (_, endpoint):
        import boto3

        s3 = boto3.client("s3", endpoint_url=endpoint)
        s3.create_bucket(Bucket="photos")
        for name in ("harbour.jpg", "harbour_small.jpg", "badge.png"):
            s3.put_object(Bucket="photos", Key=f"2024/{name}", Body=(EXAMPLES / name).read_bytes())
        yield endpoint
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def client(s3_endpoint):
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
    )
    with Client(cluster) as connected:
        yield connected
    cluster.close()


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    """A folder of 40 pictures: 20 scenes, each also as a smaller JPEG, and a file that is not an image."""
    folder = tmp_path_factory.mktemp("photos")
    for k in range(20):
        picture = scene((320, 240), seed=k)
        (folder / f"scene{k:02d}.png").write_bytes(encode(picture, "PNG"))
        (folder / "small").mkdir(exist_ok=True)
        (folder / "small" / f"scene{k:02d}.jpg").write_bytes(encode(picture.resize((160, 120)), "JPEG"))
    (folder / "broken.jpg").write_bytes(b"not a JPEG")
    return folder


def cli_records(*args: str) -> dict[str, dict]:
    result = run("phash", "--ndjson", *args)
    return {r["source"]: r for r in map(json.loads, result.stdout.splitlines())}


def table_records(table) -> dict[str, dict]:
    rows = table.compute()
    return {r["source"]: r for r in on_dask._records(rows)}


def test_hash_table_of_a_folder_holds_what_phash_prints(client, photos):
    table = on_dask.hash_table([photos], partition_size=7)
    assert table.npartitions == 6  # 41 files, 7 a partition
    ours = table_records(table)
    theirs = cli_records(str(photos))
    assert ours.keys() == {*theirs, str(photos / "broken.jpg")}
    for source, record in theirs.items():
        assert ours[source] == {**record, "error": None}
    broken = str(photos / "broken.jpg")
    told = run("phash", broken).stderr  # the row's error is what phash says of the file
    assert told == f"ikmeta: {broken}: {ours[broken]['error']}\n", (told, ours[broken]["error"])
    assert ours[str(photos / "broken.jpg")]["pHash"] is None


def test_hash_table_of_a_bucket_holds_what_phash_prints(client, s3_endpoint):
    options = {"endpoint_url": s3_endpoint}
    ours = table_records(on_dask.hash_table(["s3://photos/2024/"], storage_options=options))
    theirs = cli_records("s3://photos/2024/", "--storage-option", f"endpoint_url={s3_endpoint}")
    assert len(theirs) == 3 and ours == {s: {**r, "error": None} for s, r in theirs.items()}


def test_hash_table_survives_parquet(client, photos, tmp_path):
    table = on_dask.hash_table([photos / "small", tmp_path / "missing.jpg"], partition_size=3)
    written = on_dask.write_table(table, str(tmp_path / "hashes"))
    assert len(written) == 21 and written["error"].notna().sum() == 1
    assert table_records(dd.read_parquet(tmp_path / "hashes")) == table_records(table)


@functools.cache
def planted_table(seed: int = 14) -> pd.DataFrame:
    """200,000 hashes: random ones with near copies planted (0 to 8 bits off), a cluster of
    20,000 identical hashes and 300 near it, flat hashes, names out of order, and sizes that
    rank copies (so the best copy is not always the first name)."""
    values = planted(170_000, seed=seed, radius=6, share=0.05).tolist()
    centre = 0x5A5AF00F0FF0A5A5
    rng = random.Random(seed)
    values += [centre] * 20_000
    values += [centre ^ (1 << rng.randrange(64)) ^ (1 << rng.randrange(64)) for _ in range(300)]
    values += [0x8000000000000000] * 3
    values += rng.sample(values, 200_000 - len(values))
    order = list(range(len(values)))
    rng.shuffle(order)
    return pd.DataFrame(
        {
            "source": [f"d{k % 97}/img{k:06d}.jpg" for k in order],
            "pHash": [f"{v:016x}" for v in values],
            "width": [rng.choice([640, 1280, 4000]) for _ in values],
            "height": [480] * len(values),
            "size": [rng.randrange(10_000, 90_000) for _ in values],
        }
    ).astype({"width": "Int64", "height": "Int64", "size": "Int64"})


def shape(groups):
    return [(g.reference.source, [(m.source, d) for m, d in g.members]) for g in groups]


@pytest.mark.parametrize("linkage", ["reference", "connected"])
def test_groups_of_200k_are_the_single_machine_groups(client, linkage):
    frame = planted_table()
    table = dd.from_pandas(frame, npartitions=8)
    start = time.perf_counter()
    ours = on_dask.find_groups(table, 6, linkage=linkage)
    took = time.perf_counter() - start
    theirs = ikmeta.group(frame.to_dict("records"), 6, linkage=linkage, geometry="exact")
    assert len(theirs) > 5_000 and max(len(g.members) for g in theirs) >= 20_000
    assert shape(ours) == shape(theirs), f"after {took:.1f} s"
    if linkage == "connected":  # (the table of groups is made alike whatever the linkage: once is enough)
        return
    rows = on_dask.find_duplicates(table, 6, linkage=linkage).compute()
    assert len(rows) == sum(len(g.members) for g in theirs)
    first = rows[rows["group"] == 0]
    assert first["source"].tolist() == [m.source for m, _ in theirs[0].members]
    assert set(first["reference"]) == {theirs[0].reference.source} and first["distance"].iloc[0] == 0


def test_every_radius_and_errors_skipped(client):
    rng = np.random.default_rng(3)
    values = planted(3_000, seed=3, radius=12)
    frame = pd.DataFrame(
        {
            "source": [f"{k:05d}.jpg" for k in rng.permutation(len(values))],
            "pHash": [f"{v:016x}" for v in values.tolist()],
            "error": [None] * len(values),
        }
    )
    frame.loc[5, ["pHash", "error"]] = [None, "cannot read"]
    table = dd.from_pandas(frame, npartitions=3)
    records = frame[frame["error"].isna()].to_dict("records")
    for radius in (0, 1, 5, 12, 20):
        assert shape(on_dask.find_groups(table, radius)) == shape(
            ikmeta.group(records, radius, geometry="exact")
        ), radius


def test_bad_arguments(client):
    table = dd.from_pandas(pd.DataFrame({"source": ["a.jpg"], "hash": ["00"]}), npartitions=1)
    with pytest.raises(ValueError, match="no pHash column"):
        on_dask.find_groups(table, 6)
    with pytest.raises(ValueError, match="linkage"):
        on_dask.find_groups(table, 6, linkage="single")
    with pytest.raises(ValueError, match="max_distance"):
        on_dask.find_groups(table, 65)
    with pytest.raises(ValueError, match="partition_size"):
        on_dask.hash_table(["a.jpg"], partition_size=0)


def test_a_worker_killed_mid_run_is_survived(client, photos):
    """One worker process dies (SIGKILL) while the table is hashed; its nanny starts it again,
    the scheduler runs its tasks elsewhere, and the table is whole."""
    expected = table_records(on_dask.hash_table([photos], partition_size=2))
    table = on_dask.hash_table([photos], partition_size=2)
    pids = client.run(os.getpid)  # worker address -> its process
    future = client.compute(table)
    deadline = time.monotonic() + 60
    while not any(client.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.01)
    victim = sorted(pids)[0]
    os.kill(pids[victim], signal.SIGKILL)
    rows = future.result(timeout=120)
    assert victim not in client.run(os.getpid) or client.run(os.getpid)[victim] != pids[victim]
    assert {r["source"]: r for r in on_dask._records(rows)} == expected
    client.wait_for_workers(2, timeout=60)


def test_cli_round_trip(client, photos, tmp_path):
    """phash --dask local --parquet DIR, then dupes --dask local --hashes DIR: the groups of
    dupes --geometry exact on the same folder; failures named on stderr, exit 1."""
    out = tmp_path / "hashes"
    hashed = run("phash", "--dask", "local", "--parquet", str(out), "-j", "2", str(photos))
    assert hashed.exit_code == 1
    assert f"ikmeta: {photos / 'broken.jpg'}: " in hashed.stderr
    assert "wrote 40 hashes to" in hashed.stderr and hashed.stdout == ""
    grouped = run("dupes", "--dask", "local", "--hashes", str(out), "--json", "-j", "2")
    direct = run("dupes", str(photos), "--json", "--geometry", "exact", "--no-cache")
    assert grouped.exit_code == 0, grouped.stderr
    assert json.loads(grouped.stdout) == json.loads(direct.stdout)
    groups = json.loads(grouped.stdout)
    assert len(groups) >= 10
    duplicates = sum(len(g["files"]) - 1 for g in groups)
    assert f"40 hashes listed, {len(groups)} groups, {duplicates} duplicates" in grouped.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["phash", "--dask", "local", "x.jpg"], "--dask and --parquet go together"),
        (["phash", "--parquet", "out/", "x.jpg"], "--dask and --parquet go together"),
        (["dupes", "--dask", "local", "photos/"], "--dask groups a Parquet hash table"),
        (["dupes", "--hashes", "{folder}"], "a Parquet hash table, which needs --dask"),
        (["dupes", "--dask", "local", "--hashes", "{folder}", "--geometry", "any"], "--geometry exact"),
        (["dupes", "--dask", " ", "--hashes", "{folder}"], "give a scheduler's address"),
        (["phash", "--dask", "local", "--parquet", "{folder}", "-"], "cannot be hashed on Dask"),
    ],
)
def test_cli_usage_errors(args, message, tmp_path):
    result = run(*[a.replace("{folder}", str(tmp_path)) for a in args])
    assert result.exit_code == 2 and message in result.stderr


def test_cli_unreachable_scheduler(tmp_path, monkeypatch):
    monkeypatch.setattr(on_dask, "CONNECT_TIMEOUT", "1s")  # (10 s by default: nothing to wait for here)
    result = run("dupes", "--dask", "tcp://127.0.0.1:9", "--hashes", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.startswith("ikmeta: tcp://127.0.0.1:9: cannot reach the Dask scheduler")
    assert len(result.stderr.splitlines()) == 1


def test_cli_unreadable_table(tmp_path):
    (tmp_path / "part.parquet").write_bytes(b"not parquet")
    result = run("dupes", "--dask", "local", "-j", "1", "--hashes", str(tmp_path))
    assert result.exit_code == 1 and "cannot read the hash table" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_docstrings_run_as_doctests(client, tmp_path, monkeypatch):
    """On the cluster, whose workers' current folder is not this one: paths travel absolute."""
    import doctest
    import shutil

    shutil.copytree(EXAMPLES, tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    results = doctest.testmod(
        on_dask, extraglobs={"ikmeta": ikmeta, "dask": dask}, optionflags=doctest.ELLIPSIS
    )
    assert results.attempted >= 8 and results.failed == 0


def records_table(rows: list[tuple[str, str]]):
    return dd.from_pandas(pd.DataFrame(rows, columns=["source", "pHash"]), npartitions=2)


def test_a_source_listed_twice_is_its_first_row(client):
    rows = [("a.jpg", "ffffffff00000000"), ("./a.jpg", "2d5ad3936d2e015b"), ("b.jpg", "2d5ad3936d2e015f")]
    rows += [("c.jpg", "0000ffff0000ffff"), ("d.jpg", "0000ffff0000fffe"), ("c.jpg", "1234123412341234")]
    records = [{"source": s, "pHash": h} for s, h in rows]
    expected = shape(ikmeta.group(records, 4, geometry="exact"))
    # the second c.jpg is the first one's image; ./a.jpg is not a.jpg (names as written)
    assert expected == [("./a.jpg", [("./a.jpg", 0), ("b.jpg", 1)]), ("c.jpg", [("c.jpg", 0), ("d.jpg", 1)])]
    assert shape(on_dask.find_groups(records_table(rows), 4)) == expected


def test_radius_64_groups_complements(client):
    rows = [("a.jpg", "0f0f0f0f0f0f0f0f"), ("b.jpg", "f0f0f0f0f0f0f0f0"), ("c.jpg", "0f0f0f0f0f0f0f0e")]
    records = [{"source": s, "pHash": h} for s, h in rows]
    for radius in (63, 64):
        assert shape(on_dask.find_groups(records_table(rows), radius)) == shape(
            ikmeta.group(records, radius, geometry="exact")
        )


def test_a_bad_hash_is_a_hash_error(client):
    for bad in ("2d5ad3936d2e015b00", "xyz", 12):
        table = dd.from_pandas(
            pd.DataFrame({"source": ["a.jpg", "b.jpg"], "pHash": ["2d5ad3936d2e015b", bad]}), 1
        )
        with pytest.raises(ikmeta.HashError, match=r"b\.jpg"):
            on_dask.find_groups(table, 4)


def test_write_table_never_writes_into_a_used_folder(client, tmp_path):
    (tmp_path / "hashes").mkdir()
    (tmp_path / "hashes" / "notes.txt").write_text("mine")
    with pytest.raises(ikmeta.SourceError, match="not an empty folder"):
        on_dask.write_table(on_dask.hash_table([EXAMPLES]), str(tmp_path / "hashes"))
    assert (tmp_path / "hashes" / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in (tmp_path / "hashes").iterdir()) == ["notes.txt"]


def test_a_name_parquet_cannot_hold_is_an_error_row(client, tmp_path):
    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / os.fsdecode(b"caf\xe9.jpg")).write_bytes((EXAMPLES / "harbour.jpg").read_bytes())
    (folder / "plain.jpg").write_bytes((EXAMPLES / "harbour.jpg").read_bytes())
    rows = on_dask.write_table(on_dask.hash_table([folder]), str(tmp_path / "hashes"))
    assert rows["error"].notna().sum() == 1
    assert rows.loc[rows["error"].notna(), "source"].iloc[0].endswith("caf\\xe9.jpg")


def test_cli_messages_for_bad_tables_and_addresses(client, tmp_path):
    table = tmp_path / "bad"
    pd.DataFrame({"source": ["a.jpg"], "pHash": ["2d5ad3936d2e015b00"]}).to_parquet(tmp_path / "bad.parquet")
    table.mkdir()
    (tmp_path / "bad.parquet").rename(table / "part.0.parquet")
    result = run("dupes", "--dask", "local", "-j", "1", "--hashes", str(table))
    assert result.exit_code == 1 and len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("ikmeta: a.jpg: pHash '2d5ad3936d2e015b00' is not 16 hex digits")
    result = run("dupes", "--dask", "local", "-j", "1", "--hashes", str(tmp_path / "missing"))
    assert result.exit_code == 2 and "No such file or directory" in result.stderr
    result = run("dupes", "--dask", "not an address", "--hashes", str(table))
    assert result.exit_code == 1 and "not a Dask scheduler's address" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_a_video_named_is_an_error_row_never_an_image_row(client):
    """A video's one pHash in a table would be grouped with images': its row says why it is not there."""
    pytest.importorskip("av")
    rows = table_records(on_dask.hash_table([EXAMPLES / "clip.mp4", EXAMPLES / "harbour.jpg"]))
    clip = rows[str(EXAMPLES / "clip.mp4")]
    assert (clip["pHash"], clip["error"]) == (None, on_dask.NO_VIDEOS)
    assert rows[str(EXAMPLES / "harbour.jpg")]["error"] is None
