"""ikmeta serve driven by ImageKit's Node SDK (@imagekit/nodejs), where Node is installed:
the same calls as tests/test_serve.py, answering what ``ikmeta inspect`` says.

.ci/run installs the SDK (the version below) with npm and names its node_modules folder in
IKMETA_NODE_MODULES; elsewhere, set it to a folder where ``npm install @imagekit/nodejs`` ran."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import ikmeta

from .conftest import EXAMPLES, need, serving

SDK_VERSION = "7.11.0"  # what .ci/run installs
SCRIPT = r"""
const ImageKit = require("@imagekit/nodejs");
const { toFile } = require("@imagekit/nodejs");
const fs = require("fs");
const [baseURL, key, upload, url] = process.argv.slice(2);
(async () => {
  const client = new ImageKit({ privateKey: key, baseURL, maxRetries: 0 });
  const out = {};
  out.list = await client.assets.list({ path: "/" });
  const harbour = out.list.find((item) => item.name === "harbour.jpg");
  out.metadata = await client.files.metadata.get(harbour.fileId);
  out.details = await client.files.get(harbour.fileId);
  out.uploaded = await client.files.upload({
    file: await toFile(fs.readFileSync(upload), "small.jpg"),
    fileName: "small.jpg",
    folder: "/from-node",
    tags: ["node"],
    responseFields: ["metadata"],
  });
  out.uploadedMetadata = await client.files.metadata.get(out.uploaded.fileId);
  await client.files.delete(out.uploaded.fileId);
  out.afterDelete = await client.assets.list({ path: "/from-node" });
  try {
    await client.files.metadata.getFromURL({ url });
    out.refused = null;
  } catch (error) {
    out.refused = { status: error.status, message: error.error && error.error.message };
  }
  try {
    await new ImageKit({ privateKey: "wrong", baseURL, maxRetries: 0 }).assets.list();
  } catch (error) {
    out.wrongKey = error.status;
  }
  process.stdout.write(JSON.stringify(out));
})().catch((error) => {
  process.stderr.write(String(error.stack || error));
  process.exit(1);
});
"""


def node_modules() -> Path | None:
    """The node_modules folder holding @imagekit/nodejs, if there is one."""
    named = os.environ.get("IKMETA_NODE_MODULES")
    candidates = [Path(named)] if named else []
    npm = shutil.which("npm")
    if npm and not named:
        done = subprocess.run([npm, "root", "-g"], capture_output=True, text=True, timeout=60)
        candidates.append(Path(done.stdout.strip()))
    return next((c for c in candidates if (c / "@imagekit" / "nodejs" / "package.json").is_file()), None)


def test_the_node_sdk_gets_what_inspect_says(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node is not installed (the issue asks for these calls only where it is)")
    modules = node_modules()
    need(modules is not None, "@imagekit/nodejs (npm install; .ci/run sets IKMETA_NODE_MODULES)")
    assert modules is not None
    version = json.loads((modules / "@imagekit" / "nodejs" / "package.json").read_text())["version"]
    library = tmp_path / "library"
    library.mkdir()
    shutil.copy(EXAMPLES / "harbour.jpg", library / "harbour.jpg")
    script = tmp_path / "calls.js"
    script.write_text(SCRIPT)
    upload = EXAMPLES / "harbour_small.jpg"
    with serving(library) as app:
        done = subprocess.run(
            [
                node,
                str(script),
                app.base_url,
                "private_test_key",
                str(upload),
                "http://169.254.169.254/x.jpg",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "NODE_PATH": str(modules)},
        )
    assert done.returncode == 0, f"@imagekit/nodejs {version}: {done.stderr}"
    out = json.loads(done.stdout)
    expected = ikmeta.inspect(library / "harbour.jpg")
    assert [item["name"] for item in out["list"]] == ["harbour.jpg"]
    assert out["metadata"] == {**expected, "source": "/harbour.jpg"}
    assert (out["details"]["width"], out["details"]["height"], out["details"]["size"]) == (
        expected["width"],
        expected["height"],
        expected["size"],
    )
    small = ikmeta.inspect(upload)
    assert out["uploaded"]["filePath"].startswith("/from-node/small_") and out["uploaded"]["tags"] == ["node"]
    assert out["uploaded"]["metadata"]["pHash"] == small["pHash"] == out["uploadedMetadata"]["pHash"]
    assert out["afterDelete"] == []
    assert out["refused"]["status"] == 403 and "link-local" in out["refused"]["message"]
    assert out["wrongKey"] == 401
    assert sorted(p.name for p in library.rglob("*") if p.is_file()) == ["harbour.jpg"]
