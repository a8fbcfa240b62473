#!/usr/bin/env python3
"""Static checks of deploy/: what can be validated without Docker or a cluster.

Run from anywhere: `.venv/bin/python deploy/check.py` (PyYAML from
testing/scim-conformance/requirements.txt). bins/scim-api/tests/deploy.rs runs it as part
of `cargo xtask test`. Prints one line per check; exits 1 if any failed.

The facts checked against (binaries, ports, probe paths, config keys) are read from the
sources where they live, so a rename there fails here until deploy/ follows. The formats
themselves (Kubernetes' and Compose's official schemas) are deploy/check_schemas.py's.
"""

import re
import sys
from pathlib import Path

try:
    import yaml
except ImportError:
    print("FAIL PyYAML is not installed: run `cargo xtask setup` (it makes .venv)")
    sys.exit(1)

DEPLOY = Path(__file__).resolve().parent
ROOT = DEPLOY.parent

# interfaces.md: binary -> default port; both serve /healthz and /readyz.
BINARIES = {"scim-api": 8081, "auth-gateway": 8080}
PROBES = {"readinessProbe": "/readyz", "livenessProbe": "/healthz"}
CONFIG_ENV = {
    "DATABASE_URL",
    "SPARK__PUBLIC__BASE_DOMAIN",
    "SPARK__PUBLIC__SCHEME",
    "SPARK__PUBLIC__AUTH_PORT",
    "SPARK__PUBLIC__SCIM_PORT",
    "SPARK__SECRETS__ENCRYPTION_KEY",
    "SPARK__SECURITY__ALLOW_INSECURE_HTTP",
    "SPARK__SECURITY__TRUSTED_PROXY_HOPS",
    "SPARK__SUPPORT__ACTIVATION_EMAIL",
    "RUST_LOG",
}
SECRET_ENV = {"DATABASE_URL", "SPARK__SECRETS__ENCRYPTION_KEY"}
SCIM_PREFIX = "/scim/v2"
# The browser's paths on a workspace host and on the auth host (interfaces.md): each must
# reach auth-gateway through the Ingress; nothing else need be public.
WORKSPACE_PAGES = [
    "/", "/login", "/logout", "/api/me", "/api/OktaAuth/start", "/api/OktaAuth/session",
    "/auth/login-link", "/marketplace/integrations", "/admin/domain/integrations/authentication",
    "/my-settings/integrations/okta-scim", "/assets/admin.js", "/api/marketplace/integrations",
    "/api/admin/integrations/okta/sso", "/api/admin/integrations/okta/identities",
    "/api/my-settings/integrations/okta-scim/tokens",
]
AUTH_HOST_PAGES = ["/api/OktaAuth/login", "/api/OktaAuth/initiate", "/api/OktaAuth/callback"]
MIN_GRACE = 35  # on SIGTERM the services drain for server.drain_secs (5 s), then finish in-flight requests (up to 30 s)

results = []


def check(ok, what):
    results.append(bool(ok))
    print(f"{'ok  ' if ok else 'FAIL'} {what}")
    return bool(ok)


def report():
    """The closing line; the exit status."""
    failed = results.count(False)
    print(f"\n{len(results)} checks, {failed} failed")
    return 1 if failed else 0


def read(rel):
    return (ROOT / rel).read_text(encoding="utf-8")


# --- the facts, from the sources ------------------------------------------------------------

def check_sources():
    for binary, port in BINARIES.items():
        manifest = ROOT / "bins" / binary / "Cargo.toml"
        check(manifest.exists() and f'name = "{binary}"' in manifest.read_text(encoding="utf-8"),
              f"sources: package {binary} exists (bins/{binary}/Cargo.toml)")
        main = read(f"bins/{binary}/src/main.rs")
        check(f"127.0.0.1:{port}" in main, f"sources: {binary} defaults to port {port}")
        check("Migrate" in main, f"sources: {binary} has a migrate command")
        lib = read(f"bins/{binary}/src/lib.rs")
        for path in PROBES.values():
            check(f'"{path}"' in lib, f"sources: {binary} routes {path}")
    settings = read("crates/settings/src/lib.rs")
    for name in sorted(CONFIG_ENV - {"DATABASE_URL", "RUST_LOG"}):
        _, section, key = name.lower().split("__")
        struct = {"public": "PublicSettings", "security": "SecuritySettings",
                  "secrets": "SecretSettings", "support": "SupportSettings"}.get(section)
        body = re.search(rf"pub struct {struct} \{{(.*?)\n\}}", settings, re.S) if struct else None
        check(body is not None and f"pub {key}:" in body.group(1),
              f"sources: {name} is the settings key {section}.{key}")


# --- YAML -----------------------------------------------------------------------------------

def load_yaml():
    files = sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml"))
    check(files, f"found {len(files)} YAML files under deploy/")
    docs = []
    for path in files:
        rel = path.relative_to(ROOT)
        try:
            loaded = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
        except yaml.YAMLError as e:
            check(False, f"{rel} parses: {e}")
            continue
        check(loaded, f"{rel} parses ({len(loaded)} document(s))")
        docs.extend((rel, d) for d in loaded)
    return docs


def env_names(container):
    return [e.get("name") for e in container.get("env") or []]


def command_of(container):
    return list(container.get("command") or []) + list(container.get("args") or [])


def binary_of(argv):
    """The binary an argv runs, or None."""
    return argv[0].rsplit("/", 1)[-1] if argv else None


def check_env(where, container, config_maps, pod_spec_desc):
    names = env_names(container)
    unknown = sorted(set(n for n in names if n not in CONFIG_ENV))
    check(not unknown, f"{where}: env names are known config keys{f' (unknown: {unknown})' if unknown else ''}")
    for env in container.get("env") or []:
        if env.get("name") in SECRET_ENV:
            ref = (env.get("valueFrom") or {}).get("secretKeyRef")
            check(ref and ref.get("name") and ref.get("key"),
                  f"{where}: {env.get('name')} comes from a Secret via secretKeyRef")
    for name in sorted(SECRET_ENV):
        check(name in names, f"{where}: {name} is set (from the Secret)")
    for source in container.get("envFrom") or []:
        if "configMapRef" in source:
            cm = source["configMapRef"].get("name")
            check(cm in config_maps, f"{where}: envFrom ConfigMap {cm} is defined")
        else:
            check(False, f"{where}: envFrom only from ConfigMaps (secrets by secretKeyRef)")


def non_root(pod_spec, container):
    pod_sc = pod_spec.get("securityContext") or {}
    c_sc = container.get("securityContext") or {}
    run_as_non_root = c_sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
    user = c_sc.get("runAsUser", pod_sc.get("runAsUser"))
    return run_as_non_root is True and (user is None or user != 0) and c_sc.get("allowPrivilegeEscalation") is False


def check_kubernetes(docs):
    k8s = [(f, d) for f, d in docs if isinstance(d, dict) and "apiVersion" in d and "kind" in d]
    by_kind = {}
    for f, d in k8s:
        by_kind.setdefault(d["kind"], []).append((f, d))
        check("namespace" not in (d.get("metadata") or {}),
              f"{f}: {d['kind']}/{d['metadata'].get('name')} names no namespace")

    config_maps = {}
    for f, cm in by_kind.get("ConfigMap", []):
        data = cm.get("data") or {}
        config_maps[cm["metadata"]["name"]] = data
        unknown = sorted(k for k in data if k not in CONFIG_ENV)
        check(not unknown, f"{f}: ConfigMap keys are known config keys{f' (unknown: {unknown})' if unknown else ''}")
        leaked = sorted(k for k in data if k in SECRET_ENV)
        check(not leaked, f"{f}: ConfigMap holds no secrets{f' ({leaked})' if leaked else ''}")
    check(not by_kind.get("Secret"), "no Secret with values is committed under deploy/kubernetes")

    # Deployments.
    deployments = {d["metadata"]["name"]: (f, d) for f, d in by_kind.get("Deployment", [])}
    check(set(deployments) == set(BINARIES), f"Deployments are exactly {sorted(BINARIES)} (found {sorted(deployments)})")
    pod_labels = {}
    for name, (f, dep) in deployments.items():
        where = f"{f}: Deployment {name}"
        spec = dep["spec"]
        template = spec["template"]
        pod_labels[name] = template["metadata"].get("labels") or {}
        selector = spec.get("selector", {}).get("matchLabels") or {}
        check(selector and all(pod_labels[name].get(k) == v for k, v in selector.items()),
              f"{where}: selector matches the pod labels")
        pod = template["spec"]
        containers = pod.get("containers") or []
        check(len(containers) == 1, f"{where}: one container")
        if not containers:
            continue
        c = containers[0]
        port = BINARIES.get(name)
        argv = command_of(c)
        check(binary_of(argv) == name and argv[0] == f"/usr/local/bin/{name}",
              f"{where}: runs /usr/local/bin/{name} (runs {argv[:1]})")
        check(argv[1:] == ["serve", "--bind", f"0.0.0.0:{port}"],
              f"{where}: args serve --bind 0.0.0.0:{port} (got {argv[1:]})")
        check(name in str(c.get("image", "")), f"{where}: image {c.get('image')} is the {name} image")
        ports = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}
        check(list(ports.values()) == [port], f"{where}: containerPort {port} (got {list(ports.values())})")
        for probe, path in PROBES.items():
            http = (c.get(probe) or {}).get("httpGet") or {}
            probe_port = http.get("port")
            resolved = ports.get(probe_port) if isinstance(probe_port, str) else probe_port
            check(http.get("path") == path and resolved == port,
                  f"{where}: {probe} GET {path} on port {port} (got {http.get('path')} on {probe_port} = {resolved})")
        res = c.get("resources") or {}
        check(all(k in (res.get(part) or {}) for part in ("requests", "limits") for k in ("cpu", "memory")),
              f"{where}: cpu and memory requests and limits")
        check(non_root(pod, c), f"{where}: runAsNonRoot, non-zero user, no privilege escalation")
        grace = pod.get("terminationGracePeriodSeconds", 30)
        check(grace >= MIN_GRACE, f"{where}: terminationGracePeriodSeconds {grace} >= {MIN_GRACE}")
        check_env(where, c, config_maps, pod)

    # Services.
    services = {}
    for f, svc in by_kind.get("Service", []):
        name = svc["metadata"]["name"]
        where = f"{f}: Service {name}"
        sel = svc["spec"].get("selector") or {}
        targets = [d for d, labels in pod_labels.items() if sel and all(labels.get(k) == v for k, v in sel.items())]
        check(targets == [name], f"{where}: selects the pods of Deployment {name} (selects {targets})")
        svc_ports = svc["spec"].get("ports") or []
        port = BINARIES.get(name)
        check([p.get("port") for p in svc_ports] == [port], f"{where}: port {port}")
        for p in svc_ports:
            tp = p.get("targetPort", p.get("port"))
            ok = tp == port or (tp == "http" and name in deployments)
            check(ok, f"{where}: targetPort {tp} is the container's port {port}")
        services[name] = [p.get("port") for p in svc_ports]
    check(set(services) == set(BINARIES), f"Services are exactly {sorted(BINARIES)} (found {sorted(services)})")

    # HorizontalPodAutoscalers.
    scaled = {}
    for f, hpa in by_kind.get("HorizontalPodAutoscaler", []):
        spec = hpa["spec"]
        target = spec.get("scaleTargetRef") or {}
        scaled[target.get("name")] = hpa
        where = f"{f}: HorizontalPodAutoscaler {hpa['metadata']['name']}"
        check(target.get("kind") == "Deployment" and target.get("name") in deployments,
              f"{where}: scales Deployment {target.get('name')}")
        cpu = [m for m in spec.get("metrics") or []
               if m.get("type") == "Resource" and (m.get("resource") or {}).get("name") == "cpu"]
        check(cpu, f"{where}: scales on CPU")
        check(1 <= spec.get("minReplicas", 1) <= spec.get("maxReplicas", 0),
              f"{where}: 1 <= minReplicas <= maxReplicas")
    check(set(scaled) == set(BINARIES), f"each Deployment has its own HorizontalPodAutoscaler (found {sorted(scaled)})")

    # Migration Job.
    jobs = by_kind.get("Job", [])
    check(len(jobs) == 1, "one migration Job")
    for f, job in jobs:
        pod = job["spec"]["template"]["spec"]
        where = f"{f}: Job {job['metadata']['name']}"
        for c in pod.get("containers") or []:
            argv = command_of(c)
            binary = binary_of(argv)
            check(binary in BINARIES and argv[0] == f"/usr/local/bin/{binary}" and argv[1:] == ["migrate"],
                  f"{where}: runs `<binary> migrate` with a real binary (runs {argv})")
            check(binary is not None and binary in str(c.get("image", "")),
                  f"{where}: image {c.get('image')} holds {binary}")
            check(non_root(pod, c), f"{where}: runAsNonRoot, non-zero user, no privilege escalation")
            res = c.get("resources") or {}
            check(all(k in (res.get(part) or {}) for part in ("requests", "limits") for k in ("cpu", "memory")),
                  f"{where}: cpu and memory requests and limits")
            check_env(where, c, config_maps, pod)
        check(pod.get("restartPolicy") in ("OnFailure", "Never"), f"{where}: restartPolicy OnFailure or Never")

    # Ingresses: one for the browser's paths, one for SCIM (its own, so that hashing on
    # the Authorization header applies to SCIM only: browsers send none, and hashing them
    # all alike would put every browser on one auth-gateway pod). Checked as one table of
    # routes.
    ingresses = by_kind.get("Ingress", [])
    check(len(ingresses) == 2, "two Ingresses: the browser's and SCIM's")
    routes = {}
    where = "Ingress"
    for f, ing in ingresses:
        name = f"{f}: Ingress {ing['metadata']['name']}"
        annotations = ing["metadata"].get("annotations") or {}
        served = set()
        for rule in ing["spec"].get("rules") or []:
            for p in (rule.get("http") or {}).get("paths") or []:
                svc = p["backend"]["service"]
                check((rule.get("host"), p["path"]) not in routes,
                      f"{name}: {rule.get('host')}{p['path']} is routed once")
                routes[(rule.get("host"), p["path"])] = (svc["name"], svc["port"].get("number"), p.get("pathType"))
                served.add(svc["name"])
                check(svc["name"] in services and svc["port"].get("number") in services.get(svc["name"], []),
                      f"{name}: {rule.get('host')}{p['path']} -> {svc['name']}:{svc['port'].get('number')} is a Service port")
        hash_by = annotations.get("nginx.ingress.kubernetes.io/upstream-hash-by")
        if served == {"scim-api"}:
            check(hash_by == "$http_authorization",
                  f"{name}: a connector's requests stay on one scim-api replica (upstream-hash-by $http_authorization)")
        else:
            check(served == {"auth-gateway"}, f"{name}: serves one service")
            check(hash_by is None, f"{name}: browsers are balanced, not hashed")
    wildcard = [h for h, _ in routes if h and h.startswith("*.")]
    auth = [h for h, _ in routes if h and h.startswith("auth.")]
    check(wildcard, f"{where}: has a rule for the workspace hosts (*.domain)")
    check(auth, f"{where}: has a rule for the auth host (auth.domain)")
    def routed(host, path):
        """The service a request for `path` on `host` reaches (longest match wins)."""
        best = None
        for (h, p), (svc, _, kind) in routes.items():
            if h != host:
                continue
            hit = (p == path) if kind == "Exact" else (
                path == p or path.startswith(p.rstrip("/") + "/"))
            if hit and (best is None or len(p) > best[0]):
                best = (len(p), svc)
        return best[1] if best else None
    for host in sorted(set(wildcard)):
        check(routes.get((host, SCIM_PREFIX), (None,))[0] == "scim-api"
              and routes[(host, SCIM_PREFIX)][2] == "Prefix",
              f"{where}: {host}{SCIM_PREFIX} (Prefix) -> scim-api")
        for path in WORKSPACE_PAGES:
            check(routed(host, path) == "auth-gateway", f"{where}: {host}{path} -> auth-gateway")
    for host in sorted(set(auth)):
        for path in AUTH_HOST_PAGES:
            check(routed(host, path) == "auth-gateway", f"{where}: {host}{path} -> auth-gateway")
        check(all(svc == "auth-gateway" for (h, _), (svc, _, _) in routes.items() if h == host),
              f"{where}: everything on {host} -> auth-gateway")
    for host in sorted(set(wildcard) | set(auth)):
        for path in list(PROBES.values()) + ["/metrics"]:
            check(routed(host, path) is None, f"{where}: {host}{path} is not routed (operators only)")
    others = {svc for (h, path), (svc, _, _) in routes.items() if path != SCIM_PREFIX}
    check(others <= {"auth-gateway"}, f"{where}: every path but {SCIM_PREFIX} -> auth-gateway")
    scim = {svc for (h, path), (svc, _, _) in routes.items() if path == SCIM_PREFIX}
    check(scim == {"scim-api"}, f"{where}: {SCIM_PREFIX} -> scim-api only")


# --- compose --------------------------------------------------------------------------------

def check_compose(docs):
    composes = [(f, d) for f, d in docs if isinstance(d, dict) and "services" in d and "apiVersion" not in d]
    check(len(composes) == 1, "one compose file")
    for f, compose in composes:
        services = compose["services"]
        pg = [n for n, s in services.items() if str(s.get("image", "")).startswith("postgres:15")]
        check(len(pg) == 1, f"{f}: a PostgreSQL 15 service")
        pg_name = pg[0] if pg else None
        migrations = []
        servers = {}
        for name, svc in services.items():
            if name == pg_name:
                continue
            where = f"{f}: service {name}"
            dockerfile = (svc.get("build") or {}).get("dockerfile", "")
            binary = dockerfile.rsplit("Dockerfile.", 1)[-1] if "Dockerfile." in dockerfile else None
            context = (DEPLOY / str((svc.get("build") or {}).get("context", "."))).resolve()
            check(binary in BINARIES and context == ROOT and (context / dockerfile).is_file(),
                  f"{where}: built from the repository root with deploy/Dockerfile.<real binary> ({dockerfile})")
            check(binary is not None and binary in str(svc.get("image", "")),
                  f"{where}: image {svc.get('image')} is the {binary} image")
            cmd = svc.get("command") or []
            env = svc.get("environment") or {}
            names = list(env) if isinstance(env, dict) else [e.split("=", 1)[0] for e in env]
            unknown = sorted(n for n in names if n not in CONFIG_ENV)
            check(not unknown, f"{where}: env names are known config keys{f' (unknown: {unknown})' if unknown else ''}")
            missing = sorted(CONFIG_ENV - {"RUST_LOG"} - set(names))
            check(not missing, f"{where}: sets every config key{f' (missing: {missing})' if missing else ''}")
            if cmd == ["migrate"]:
                migrations.append(name)
                dep = (svc.get("depends_on") or {}).get(pg_name) or {}
                check(dep.get("condition") == "service_healthy", f"{where}: waits for PostgreSQL to be healthy")
            else:
                port = BINARIES.get(binary)
                servers[name] = binary
                check(cmd == ["serve", "--bind", f"0.0.0.0:{port}"], f"{where}: serve --bind 0.0.0.0:{port} (got {cmd})")
                check(any(str(p).endswith(f":{port}") for p in svc.get("ports") or []), f"{where}: publishes {port}")
        check(len(migrations) == 1, f"{f}: one one-shot migration service (command [migrate])")
        check(sorted(servers.values()) == sorted(BINARIES), f"{f}: serves both {sorted(BINARIES)}")
        for name in servers:
            deps = services[name].get("depends_on") or {}
            check(migrations and (deps.get(migrations[0]) or {}).get("condition") == "service_completed_successfully",
                  f"{f}: {name} starts after the migration completed")


# --- Dockerfiles ----------------------------------------------------------------------------

def dockerfile_instructions(text):
    """(INSTRUCTION, argument) pairs, continuation lines joined, comments dropped."""
    lines, current = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        instr, _, arg = current.partition(" ")
        lines.append((instr.upper(), arg.strip()))
        current = ""
    return lines


def check_dockerfiles():
    found = sorted(DEPLOY.glob("Dockerfile*"))
    names = sorted(p.name.removeprefix("Dockerfile.") for p in found)
    check(names == sorted(BINARIES), f"Dockerfiles are exactly Dockerfile.{{{','.join(sorted(BINARIES))}}} (found {names})")
    for path in found:
        binary = path.name.removeprefix("Dockerfile.")
        port = BINARIES.get(binary)
        where = f"deploy/{path.name}"
        instrs = dockerfile_instructions(path.read_text(encoding="utf-8"))
        froms = [a for i, a in instrs if i == "FROM"]
        check(len(froms) >= 2 and froms[0].startswith("rust:1.95"), f"{where}: multi-stage, built on rust:1.95 ({froms[:1]})")
        check(froms and froms[-1] == "debian:bookworm-slim", f"{where}: runs on debian:bookworm-slim")
        runs = " ".join(a for i, a in instrs if i == "RUN")
        builds = re.findall(r"cargo build ([^&;]*)", runs)
        check(len(builds) == 1 and builds[0].split() == ["--release", "-p", binary, "--locked"],
              f"{where}: cargo build --release -p {binary} --locked (got {builds})")
        final = instrs[max(n for n, (i, _) in enumerate(instrs) if i == "FROM"):]
        installs = re.findall(r"apt-get install ((?:-\S+ )*)([^&;]*)", " ".join(a for i, a in final if i == "RUN"))
        packages = sorted(p for _, pkgs in installs for p in pkgs.split())
        check(packages == ["ca-certificates", "libpq5"], f"{where}: runtime installs only libpq5 and ca-certificates ({packages})")
        copies = [a for i, a in final if i == "COPY"]
        check(any(a.startswith("--from=") and a.endswith(f"/usr/local/bin/{binary}") for a in copies),
              f"{where}: copies the built {binary} to /usr/local/bin/{binary}")
        users = [a for i, a in final if i == "USER"]
        uid = users[-1].split(":")[0] if users else "0"
        check(users and uid not in ("0", "root") and uid.isdigit(), f"{where}: runs as a numeric non-root user ({users[-1:]})")
        expose = [a for i, a in instrs if i == "EXPOSE"]
        check(expose == [str(port)], f"{where}: EXPOSE {port} (got {expose})")
        entry = [a for i, a in instrs if i == "ENTRYPOINT"]
        check(entry == [f'["/usr/local/bin/{binary}"]'], f"{where}: ENTRYPOINT [\"/usr/local/bin/{binary}\"]")
        cmd = [a for i, a in instrs if i == "CMD"]
        check(cmd == [f'["serve", "--bind", "0.0.0.0:{port}"]'], f"{where}: CMD serve --bind 0.0.0.0:{port}")


# --- anywhere -------------------------------------------------------------------------------

def check_everywhere():
    """Every binary path, SPARK__ name and probe-looking path in any deploy file is real
    (deploy/schemas/ holds others' schemas, not deploy files)."""
    texts = {p.relative_to(ROOT): p.read_text(encoding="utf-8")
             for p in sorted(DEPLOY.rglob("*")) if p.is_file() and p.suffix not in (".py", ".pyc")
             and p.relative_to(DEPLOY).parts[0] != "schemas"}
    for rel, text in texts.items():
        bins = set(re.findall(r"/usr/local/bin/([A-Za-z0-9_.-]+)", text))
        check(bins <= set(BINARIES), f"{rel}: names only real binaries ({sorted(bins)})")
        spark = set(re.findall(r"\bSPARK__[A-Z_]+[A-Z]", text))
        check(spark <= CONFIG_ENV, f"{rel}: names only known SPARK__ keys{f' (unknown: {sorted(spark - CONFIG_ENV)})' if spark - CONFIG_ENV else ''}")
        z = set(re.findall(r"/[a-z]+z\b", text))
        check(z <= set(PROBES.values()), f"{rel}: probe paths are /healthz and /readyz ({sorted(z)})")


def main():
    check_sources()
    docs = load_yaml()
    check_kubernetes(docs)
    check_compose(docs)
    check_dockerfiles()
    check_everywhere()
    return report()


if __name__ == "__main__":
    sys.exit(main())
