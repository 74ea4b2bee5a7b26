//! The API against its own document (`/openapi.json`): every JSON answer
//! of a signed meeting's record, to every role, conforms to the schema the
//! document gives for its status, with no field the schema does not name
//! (so a view that gains a field must gain it in `wire` too); and every
//! problem type the server answers is in the document. schemathesis checks
//! the same of a live server in CI (.ci/schemathesis).

use axum::http::StatusCode;
use minutebook::policy::tokens::Role;
use serde_json::Value;

use crate::api::{json, Api};
use crate::domain::*;

/// Why `value` does not conform to `schema` (resolving `$ref`s in
/// `document`), if it does not. Formats and patterns are not checked;
/// an object's fields must be ones the schema (or a part of it) names.
fn conforms(document: &Value, value: &Value, schema: &Value, at: &str) -> Result<(), String> {
    conforms_as(document, value, schema, at, true)
}

/// As `conforms`; `strict` when the schema is the whole of the value's
/// (not one part of an `allOf`, `oneOf` or `anyOf`, which another names
/// the rest of).
fn conforms_as(document: &Value, value: &Value, schema: &Value, at: &str, strict: bool) -> Result<(), String> {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let target = document.pointer(reference.trim_start_matches('#')).ok_or(format!("{at}: no {reference}"))?;
        return conforms_as(document, value, target, at, strict);
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            other => other.as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect(),
        };
        let is = |t: &str| match t {
            "null" => value.is_null(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_u64() || value.is_i64(),
            "number" => value.is_number(),
            "string" => value.is_string(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            other => panic!("type {other}"),
        };
        if !types.iter().any(|t| is(t)) {
            return Err(format!("{at}: {value} is not of type {types:?}"));
        }
    }
    if let Some(constant) = schema.get("const") {
        if constant != value {
            return Err(format!("{at}: {value} is not {constant}"));
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(value) {
            return Err(format!("{at}: {value} is not one of {options:?}"));
        }
    }
    for part in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        conforms_as(document, value, part, at, false)?;
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let matching = options.iter().filter(|o| conforms_as(document, value, o, at, false).is_ok()).count();
            if matching == 0 || (key == "oneOf" && matching > 1) {
                return Err(format!("{at}: {value} matches {matching} of {key} {options:?}"));
            }
        }
    }
    // An object schema that names no field at all takes any.
    let names_fields = ["properties", "allOf", "oneOf", "anyOf"].iter().any(|k| schema.get(k).is_some());
    if let (Some(object), true) = (value.as_object(), schema.get("type").is_some() && names_fields) {
        let named = names(document, schema);
        for required in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            if !object.contains_key(required.as_str().unwrap()) {
                return Err(format!("{at}: no field {required}"));
            }
        }
        for (key, field) in object {
            if let Some(property) = schema.get("properties").and_then(|p| p.get(key)) {
                conforms(document, field, property, &format!("{at}.{key}"))?;
            } else if let Some(values) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                conforms(document, field, values, &format!("{at}.{key}"))?;
            } else if strict && !named.contains(key) {
                return Err(format!("{at}: field {key} is not in the schema"));
            }
        }
    }
    if let Some(items) = value.as_array() {
        let prefix = schema.get("prefixItems").and_then(Value::as_array);
        for (index, item) in items.iter().enumerate() {
            let at = format!("{at}[{index}]");
            match (prefix.and_then(|p| p.get(index)), schema.get("items")) {
                (Some(schema), _) => conforms(document, item, schema, &at)?,
                (None, Some(schema)) if schema.is_object() => conforms(document, item, schema, &at)?,
                _ => {}
            }
        }
    }
    Ok(())
}

/// Every field an object schema, or any part of it, names; any field at
/// all if it takes other fields.
fn names(document: &Value, schema: &Value) -> Vec<String> {
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => document.pointer(reference.trim_start_matches('#')).unwrap(),
        None => schema,
    };
    let mut found: Vec<String> =
        schema.get("properties").and_then(Value::as_object).into_iter().flatten().map(|(k, _)| k.clone()).collect();
    for key in ["allOf", "oneOf", "anyOf"] {
        for part in schema.get(key).and_then(Value::as_array).into_iter().flatten() {
            found.extend(names(document, part));
        }
    }
    found
}

fn document(api: &Api) -> Value {
    let (status, _, body) = api.get("/openapi.json", Role::Public, "application/json");
    assert_eq!(status, StatusCode::OK);
    json(&body)
}

#[test]
fn every_json_answer_conforms_to_the_document() {
    let api = Api::at(Stage::Signed);
    let document = document(&api);
    let point = {
        let events =
            api.state.recorder.log().read_stream(&m(M1).stream(), minutebook_log::StreamVersion(1), 1_000).unwrap();
        events.iter().rev().find(|e| e.envelope.event_type() == "point.recorded").unwrap().envelope.seq().0
    };
    let mut checked = 0;
    for operation in minutebook::http::api::openapi::OPERATIONS.iter().filter(|o| o.method == "get") {
        let Some(schema) =
            document["paths"][operation.path]["get"]["responses"]["200"]["content"]["application/json"].get("schema")
        else {
            continue;
        };
        let mut paths = vec![operation
            .path
            .replace("{body}", "riverside-scrutiny")
            .replace("{meeting}", M1)
            .replace("{item}", "8")
            .replace("{seq}", &point.to_string())
            .replace("{number}", "396")
            .replace("{person}", "cllr-okoro")
            .replace("{stream}", &format!("meeting:{M1}"))];
        if operation.path.contains("{register}") {
            paths = ["attendance", "declarations", "flagged-votes", "inquorate"]
                .iter()
                .map(|r| paths[0].replace("{register}", r))
                .collect();
        }
        for path in paths {
            let path = match path.as_str() {
                "/v1/events" => "/v1/events?limit=1000".to_owned(),
                "/v1/proofs/inclusion" => "/v1/proofs/inclusion?seq=1".to_owned(),
                "/v1/proofs/consistency" => "/v1/proofs/consistency?from=1".to_owned(),
                other => other.to_owned(),
            };
            for role in [Role::Public, Role::Member, Role::Clerk] {
                let (status, content_type, body) = api.get(&path, role, "application/json");
                let (schema, expected_type) = if status == StatusCode::OK {
                    (schema.clone(), "application/json")
                } else {
                    let response = &document["paths"][operation.path]["get"]["responses"][status.as_str()];
                    assert!(response.is_object(), "{role:?} GET {path}: {status} is not in the document");
                    let reference = response["$ref"].as_str().unwrap().trim_start_matches('#');
                    let problem = &document.pointer(reference).unwrap()["content"]["application/problem+json"];
                    (problem["schema"].clone(), "application/problem+json")
                };
                assert_eq!(content_type, expected_type, "{role:?} GET {path}");
                if let Err(why) = conforms(&document, &json(&body), &schema, "answer") {
                    panic!("{role:?} GET {path}: {status}: {why}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 50, "{checked} answers checked");
}

#[test]
fn every_problem_type_the_server_answers_is_in_the_document() {
    let api = Api::at(Stage::Registered);
    let document = document(&api);
    let schemas = document["components"]["schemas"].as_object().unwrap();
    let mut sources = Vec::new();
    let mut directories = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src/http"))];
    while let Some(directory) = directories.pop() {
        for entry in std::fs::read_dir(directory).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                directories.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                sources.push(std::fs::read_to_string(path).unwrap());
            }
        }
    }
    let mut kinds = Vec::new();
    for source in &sources {
        // `ApiError::new(STATUS, "kind", ...)`, and the router's own
        // rejections' `(kind, detail)` pairs.
        let pairs = if source.contains("fn problem_for_rejections") {
            source.match_indices("=> (\"").collect()
        } else {
            Vec::new()
        };
        for (index, _) in source.match_indices("ApiError::new(").chain(pairs) {
            let rest = &source[index..];
            let Some(start) = rest.find('"').filter(|start| !rest[..*start].contains(';')) else { continue };
            let kind = &rest[start + 1..start + 1 + rest[start + 1..].find('"').unwrap()];
            if kind.chars().all(|c| c.is_ascii_lowercase() || c == '-') && !kind.is_empty() {
                kinds.push(kind.to_owned());
            }
        }
    }
    kinds.sort();
    kinds.dedup();
    assert!(kinds.len() > 15, "{kinds:?}");
    for kind in kinds {
        assert!(schemas.contains_key(&format!("Problem-{kind}")), "/problems/{kind} is not in the document");
    }
}
