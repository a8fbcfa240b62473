#!/usr/bin/env python3
"""deploy/ against the official schemas, offline.

- Every Kubernetes manifest under deploy/kubernetes/ against the Kubernetes API's JSON
  schemas, strictly (an unknown field is an error), for every Kubernetes version the
  pinned `kubernetes-validate` package bundles.
- deploy/compose.yaml against the Compose Specification's JSON schema, vendored in
  deploy/schemas/compose-spec.json (its source and commit: deploy/schemas/README.md).

deploy/check.py holds the project's own rules; this holds the formats'. Each validator is
also shown a broken copy of a real file and must refuse it, so a validator that accepts
anything cannot pass.

Run from anywhere: `.venv/bin/python deploy/check_schemas.py` (packages from
deploy/requirements.txt; `cargo xtask setup` installs them). bins/scim-api/tests/deploy.rs
runs it as part of `cargo xtask test`. Prints one line per check; exits 1 if any failed.
"""

import copy
import json
import sys

from check import DEPLOY, ROOT, check, report  # deploy/check.py: one way to report checks

try:
    import jsonschema
    import kubernetes_validate
    import kubernetes_validate.utils
    import yaml
except ImportError as e:
    print(f"FAIL {e.name} is not installed: .venv/bin/pip install -r deploy/requirements.txt "
          "(cargo xtask setup does)")
    sys.exit(1)

COMPOSE_SCHEMA = DEPLOY / "schemas" / "compose-spec.json"


def documents(path):
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]


def kubernetes_errors(doc, version):
    """The schema's complaint about `doc` on Kubernetes `version`, or None."""
    try:
        kubernetes_validate.validate(doc, version, strict=True)
        return None
    except kubernetes_validate.ValidationError as e:
        return f"{e.json_path}: {e.message}"
    except kubernetes_validate.utils.SchemaNotFoundError as e:
        return e.message


def check_kubernetes():
    versions = kubernetes_validate.utils.all_versions()
    check(versions, f"kubernetes-validate bundles schemas for Kubernetes {versions[0]} to {versions[-1]}"
          if versions else "kubernetes-validate bundles schemas")
    files = sorted((DEPLOY / "kubernetes").glob("*.yaml"))
    check(files, f"found {len(files)} Kubernetes manifests")
    first_deployment = None
    for path in files:
        rel = path.relative_to(ROOT)
        for doc in documents(path):
            name = f"{doc.get('kind')} {doc.get('metadata', {}).get('name')}"
            failures = [(v, kubernetes_errors(doc, v)) for v in versions]
            failures = [(v, e) for v, e in failures if e]
            check(not failures,
                  f"schema: {rel} {name} is valid on Kubernetes {versions[0]}-{versions[-1]} (strict)"
                  + "".join(f"\n     {v}: {e}" for v, e in failures[:3]))
            if doc.get("kind") == "Deployment" and first_deployment is None:
                first_deployment = doc
    if first_deployment is not None:
        broken = copy.deepcopy(first_deployment)
        broken["spec"]["replicass"] = 2
        check(kubernetes_errors(broken, versions[-1]),
              "schema: a Deployment with a misspelled field (spec.replicass) is refused")
        broken = copy.deepcopy(first_deployment)
        broken["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "http"
        check(kubernetes_errors(broken, versions[-1]),
              "schema: a Deployment with a port that is not a number is refused")


def compose_errors(validator, doc):
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    return [f"{e.json_path}: {e.message}" for e in errors]


def check_compose():
    schema = json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8"))
    # The schema says draft-07 (as "https://json-schema.org/draft-07/schema", without the
    # trailing "#" by which jsonschema would recognise it).
    check("draft-07" in schema.get("$schema", ""), "the Compose schema is a JSON Schema draft-07")
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    path = DEPLOY / "compose.yaml"
    (doc,) = documents(path)
    errors = compose_errors(validator, doc)
    check(not errors, f"schema: {path.relative_to(ROOT)} is valid against the Compose Specification"
          + "".join(f"\n     {e}" for e in errors[:5]))
    broken = copy.deepcopy(doc)
    service = next(iter(broken["services"].values()))
    service["imagee"] = service.get("image", "x")
    check(compose_errors(validator, broken),
          "schema: a compose service with a misspelled key (imagee) is refused")
    broken = copy.deepcopy(doc)
    next(iter(broken["services"].values()))["depends_on"] = 42
    check(compose_errors(validator, broken),
          "schema: a compose service whose depends_on is a number is refused")


def main():
    check_kubernetes()
    check_compose()
    return report()


if __name__ == "__main__":
    sys.exit(main())
