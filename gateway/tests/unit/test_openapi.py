from gateway.openapi import build_document, openapi_path, routes_of
from gateway.service import GatewayService

METHODS = {"get", "put", "post", "delete", "patch"}


def test_every_route_is_in_the_document():
    document = build_document(GatewayService, ttl=30)
    listed = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in METHODS
    }
    expected = {(route.method, openapi_path(route.url)) for _, route in routes_of(GatewayService)}
    assert listed == expected
    assert CONTRACT <= listed, CONTRACT - listed


# The route list of ARCHITECTURE.md, "Gateway API (v1)".
CONTRACT = {
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/api/v1/me"),
    ("POST", "/api/v1/me/real-name"),
    ("POST", "/api/v1/enterprises"),
    ("GET", "/api/v1/enterprises/{uscc}"),
    ("POST", "/api/v1/admin/staff"),
    ("GET", "/api/v1/regions"),
    ("GET", "/api/v1/departments"),
    ("GET", "/api/v1/items"),
    ("GET", "/api/v1/items/{item_id}"),
    ("POST", "/api/v1/items"),
    ("PUT", "/api/v1/items/{item_id}"),
    ("POST", "/api/v1/items/{item_id}/publish"),
    ("POST", "/api/v1/items/{item_id}/retire"),
    ("POST", "/api/v1/catalogue/basic"),
    ("GET", "/api/v1/catalogue/basic"),
    ("GET", "/api/v1/catalogue/basic/{basic_code}"),
    ("PUT", "/api/v1/catalogue/basic/{basic_code}"),
    ("GET", "/api/v1/stores"),
    ("GET", "/api/v1/stores/{store_id}"),
    ("GET", "/api/v1/stats/catalog"),
    ("POST", "/api/v1/applications"),
    ("GET", "/api/v1/applications"),
    ("GET", "/api/v1/applications/{application_id}"),
    ("POST", "/api/v1/applications/{application_id}/withdraw"),
    ("POST", "/api/v1/applications/{application_id}/supplement"),
    ("GET", "/api/v1/worklist"),
    ("GET", "/api/v1/escalations"),
    ("POST", "/api/v1/applications/{application_id}/actions"),
    ("GET", "/api/v1/licences"),
    ("GET", "/api/v1/licences/{licence_no}/verify"),
    ("GET", "/api/v1/shipments"),
    ("GET", "/api/v1/shipments/{tracking_no}"),
    ("POST", "/api/v1/webhooks/ems"),
    ("POST", "/api/v1/applications/{application_id}/review"),
    ("GET", "/api/v1/stores/{store_id}/reviews"),
    ("GET", "/api/v1/stats/ratings"),
    ("GET", "/api/v1/rectifications"),
    ("POST", "/api/v1/rectifications/{rectification_id}/resolve"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
}


def test_document_is_structurally_openapi_3():
    document = build_document(GatewayService, ttl=30)
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] and document["info"]["version"]
    components = document["components"]
    assert components["securitySchemes"]["bearer"]["scheme"] == "bearer"
    schemas = components["schemas"]
    operation_ids = set()
    for path, operations in document["paths"].items():
        assert path.startswith("/")
        for method, operation in operations.items():
            assert method in METHODS
            assert operation["operationId"] not in operation_ids
            operation_ids.add(operation["operationId"])
            assert operation["responses"]
            for status, response in operation["responses"].items():
                assert status.isdigit() and response["description"]
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert names == {part[1:-1] for part in path.split("/") if part.startswith("{")}
    text = str(document)
    for ref in {piece.split("'")[0] for piece in text.split("#/components/schemas/")[1:]}:
        assert ref in schemas, ref


def test_routes_document_their_bodies_security_and_cache():
    paths = build_document(GatewayService, ttl=12)["paths"]
    submit = paths["/api/v1/applications"]["post"]
    assert "requestBody" in submit and submit["security"] == [{"bearer": []}]
    assert {"201", "401", "422", "400"} <= set(submit["responses"])
    search = paths["/api/v1/items"]["get"]
    assert "12 seconds stale" in search["description"]
    assert {p["name"] for p in search["parameters"]} >= {"q", "region", "page", "page_size"}
    assert "security" not in paths["/api/v1/licences/{licence_no}/verify"]["get"]
    assert "429" in paths["/api/v1/auth/login"]["post"]["responses"]
    error = build_document(GatewayService)["components"]["schemas"]["Error"]
    assert "error" in error["properties"]


def _examples(node, components, path="#"):
    """(where, schema without its example, example) of every example in ``node``."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _examples(item, components, f"{path}/{index}")
        return
    if not isinstance(node, dict):
        return
    if "example" in node and ("type" in node or "$ref" in node or "anyOf" in node):
        schema = {key: value for key, value in node.items() if key != "example"}
        yield path, {**schema, "components": components}, node["example"]
    for key, value in node.items():
        if key != "example":
            yield from _examples(value, components, f"{path}/{key}")


def test_every_example_in_the_document_is_valid_for_its_schema():
    import jsonschema_rs

    document = build_document(GatewayService, ttl=30)
    components = document["components"]
    checked = 0
    for where, schema, example in _examples(document, components):
        validator = jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
        errors = [error.message for error in validator.iter_errors(example)]
        assert not errors, f"{where}: example {example!r}: {errors}"
        checked += 1
    assert checked > 50
