"""make lab works: a headless Jupyter server started as the Makefile starts it serves every MyST
notebooks/*.md as a notebook, and a vgglib kernel executes a notebook's cell over its websocket."""
import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator

import jupytext
import pytest
from conftest import NOTEBOOKS, ROOT

pytestmark = pytest.mark.slow
STARTUP_S = 90  # a cold JupyterLab start on a busy 2-core machine
REPLY_S = 120  # the kernel's start plus one small cell
EXPLORE_S = 300  # a cell of the exploration at smoke: the first trains two small nets


def kernel_registered() -> bool:
    from jupyter_client.kernelspec import KernelSpecManager
    return "vgglib" in KernelSpecManager().find_kernel_specs()


class Server:
    """A running Jupyter server's address and token, with a REST call helper."""

    def __init__(self, port: int, token: str):
        self.base = f"127.0.0.1:{port}"
        self.token = token

    def api(self, path: str, method: str = "GET", body: dict | None = None, timeout: float = 30):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"http://{self.base}{path}", data=data, method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            text = reply.read()
        return json.loads(text) if text else None


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    """JupyterLab as ``make lab`` runs it, but headless on a free local port with a token."""
    pytest.importorskip("jupyterlab", reason="jupyterlab is not installed: make venv installs the lock")
    if not kernel_registered():
        pytest.skip("no Jupyter kernel named vgglib: make venv registers it inside .venv")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(16)
    log = tmp_path_factory.mktemp("lab") / "server.log"
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           "--ServerApp.root_dir=notebooks", "--MultiKernelManager.default_kernel_name=vgglib"]
    if os.getuid() == 0:
        cmd.append("--allow-root")
    env = {**os.environ, "JUPYTER_CONFIG_PATH": str(ROOT / ".jupyter")}
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    srv = Server(port, token)
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            assert proc.poll() is None, f"the server exited ({proc.returncode}):\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"no answer in {STARTUP_S} s:\n{log.read_text()[-3000:]}"
            try:
                srv.api("/api/status", timeout=5)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_every_myst_notebook_is_served_as_a_notebook(server):
    listed = {item["name"]: item["type"] for item in server.api("/api/contents")["content"]}
    for md in NOTEBOOKS:
        assert listed.get(md.name) == "notebook", f"{md.name} is listed as {listed.get(md.name)}"
    model = server.api("/api/contents/architecture.md")
    assert model["type"] == "notebook" and model["content"]["cells"]


def test_double_click_opens_markdown_as_a_notebook(server):
    """.jupyter/labconfig overrides the default viewers (the schema's default, not a user setting)."""
    plugin = server.api("/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
    viewers = plugin["schema"]["properties"]["defaultViewers"]["default"]
    assert viewers["myst"] == viewers["markdown"] == "Jupytext Notebook"


async def execute(server: Server, kernel_id: str, code: str) -> str:
    """Run ``code`` in the kernel over its websocket channel; return what it printed."""
    from tornado.websocket import websocket_connect

    url = f"ws://{server.base}/api/kernels/{kernel_id}/channels?token={server.token}"
    ws = await asyncio.wait_for(websocket_connect(url), timeout=30)
    msg_id = uuid.uuid4().hex
    ws.write_message(json.dumps({
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "session": uuid.uuid4().hex,
                   "username": "test_lab", "version": "5.3"},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True}}))
    printed, replied, idle = [], False, False
    try:
        while not (replied and idle):
            raw = await ws.read_message()
            assert raw is not None, "the kernel's websocket closed before the cell finished"
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["header"]["msg_type"], msg["content"]
            if kind == "stream" and content["name"] == "stdout":
                printed.append(content["text"])
            elif kind == "error":
                pytest.fail(f"the cell raised {content['ename']}: {content['evalue']}")
            elif kind == "execute_reply":
                assert content["status"] == "ok", content
                replied = True
            elif kind == "status" and content["execution_state"] == "idle":
                idle = True
    finally:
        ws.close()
    return "".join(printed)


def test_vgglib_kernel_runs_a_notebook_cell(server):
    nb = jupytext.read(ROOT / "notebooks" / "architecture.md")
    params = next(c.source for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    kernel = server.api("/api/kernels", method="POST", body={"name": "vgglib"})
    try:
        code = f"{params}\nimport vgglib\nprint(profile, vgglib.__version__)"
        printed = asyncio.run(asyncio.wait_for(execute(server, kernel["id"], code), timeout=REPLY_S))
    finally:
        server.api(f"/api/kernels/{kernel['id']}", method="DELETE")
    import vgglib
    assert printed.split() == ["quick", vgglib.__version__]


def test_exploration_notebook_runs_in_the_vgglib_kernel(server, tmp_path):
    """Every code cell of the exploration of the paper's test, in order, at the smoke profile and
    from an empty run store, so that it trains its small net itself, as JupyterLab runs them."""
    nb = jupytext.read(ROOT / "notebooks" / "explore_dense_test.md")
    cells = [c.source for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in next(c for c in nb.cells if c.cell_type == "code").metadata["tags"]
    injected = (f"import os\nos.environ['VGGLIB_RUNS'] = {str(tmp_path / 'runs')!r}\n"
                f"profile = 'smoke'\nresults_dir = {str(tmp_path / 'results')!r}")
    check = "print(subject.trained_here, test.crops, len(test.scales), errs is not None)"
    kernel = server.api("/api/kernels", method="POST", body={"name": "vgglib"})
    try:
        printed = [asyncio.run(asyncio.wait_for(execute(server, kernel["id"], code), timeout=EXPLORE_S))
                   for code in [cells[0], injected, *cells[1:], check]]
    finally:
        server.api(f"/api/kernels/{kernel['id']}", method="DELETE")
    assert printed[-1].split() == ["True", "150", "3", "True"]
    assert (tmp_path / "runs").is_dir(), "the net was trained into the run store the cells were given"
