//! Validation of the `POST /v1/cache/query` body, with the service's error shapes.
//!
//! The real service is FastAPI: a value of the wrong JSON type yields a 422 whose `detail` is a
//! list of `{loc, msg, type}` entries, while the checks the service does itself (required
//! fields, threshold range, unparsable JSON) yield a 400 with a string `detail`.

use serde_json::{json, Map, Value};

/// The documented default similarity threshold.
pub const DEFAULT_THRESHOLD: f64 = 0.85;

/// A validated query.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryRequest {
    /// The prompt (not blank).
    pub prompt: String,
    /// The model id (not blank).
    pub model: String,
    /// Minimum similarity for a hit, in `0..=1`.
    pub similarity_threshold: f64,
    /// Cache segment within the project.
    pub context: Option<String>,
    /// Whether to add the `debug` object.
    pub include_debug: bool,
    /// The project the client believes it uses.
    pub project_id: Option<String>,
}

/// Why a body was refused.
#[derive(Clone, Debug, PartialEq)]
pub enum ValidationError {
    /// 400 with this `detail`.
    BadRequest(&'static str),
    /// 422 with this list as `detail`.
    Unprocessable(Vec<Value>),
}

#[derive(Clone, Copy)]
enum Kind {
    String,
    Number,
    Bool,
}

/// The FastAPI (pydantic v2) error for a value of the wrong type.
fn type_error(field: &str, kind: Kind, value: &Value) -> Value {
    let (msg, ty) = match (kind, value) {
        (Kind::String, _) => ("Input should be a valid string", "string_type"),
        (Kind::Number, Value::String(_)) => ("Input should be a valid number", "float_parsing"),
        (Kind::Number, _) => ("Input should be a valid number", "float_type"),
        (Kind::Bool, Value::String(_)) => ("Input should be a valid boolean", "bool_parsing"),
        (Kind::Bool, _) => ("Input should be a valid boolean", "bool_type"),
    };
    json!({ "loc": ["body", field], "msg": msg, "type": ty })
}

fn type_matches(kind: Kind, value: &Value) -> bool {
    match kind {
        Kind::String => value.is_string(),
        Kind::Number => value.is_number(),
        Kind::Bool => value.is_boolean(),
    }
}

/// `null` counts as absent for every field.
fn field<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.get(name).filter(|v| !v.is_null())
}

/// Parses and validates a query body. Unknown fields are ignored.
pub fn parse_query(body: &[u8]) -> Result<QueryRequest, ValidationError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| ValidationError::BadRequest("Invalid JSON format"))?;
    let Value::Object(map) = value else {
        return Err(ValidationError::BadRequest("Invalid JSON format"));
    };

    const FIELDS: [(&str, Kind); 6] = [
        ("prompt", Kind::String),
        ("model", Kind::String),
        ("similarity_threshold", Kind::Number),
        ("context", Kind::String),
        ("include_debug", Kind::Bool),
        ("project_id", Kind::String),
    ];
    let errors: Vec<Value> = FIELDS
        .iter()
        .filter_map(|&(name, kind)| {
            field(&map, name)
                .filter(|v| !type_matches(kind, v))
                .map(|v| type_error(name, kind, v))
        })
        .collect();
    if !errors.is_empty() {
        return Err(ValidationError::Unprocessable(errors));
    }

    let text = |name: &str| field(&map, name).and_then(Value::as_str).map(str::to_owned);
    let prompt = text("prompt")
        .filter(|p| !p.trim().is_empty())
        .ok_or(ValidationError::BadRequest("Field required: prompt"))?;
    let model = text("model")
        .filter(|m| !m.trim().is_empty())
        .ok_or(ValidationError::BadRequest("Field required: model"))?;
    let similarity_threshold = match field(&map, "similarity_threshold").and_then(Value::as_f64) {
        None => DEFAULT_THRESHOLD,
        Some(t) if (0.0..=1.0).contains(&t) => t,
        Some(_) => {
            return Err(ValidationError::BadRequest(
                "similarity_threshold must be between 0 and 1",
            ))
        }
    };
    Ok(QueryRequest {
        prompt,
        model,
        similarity_threshold,
        context: text("context"),
        include_debug: field(&map, "include_debug")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        project_id: text("project_id"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(body: &str) -> ValidationError {
        match parse_query(body.as_bytes()) {
            Ok(q) => panic!("expected an error for {body}, got {q:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn valid_with_defaults_and_unknown_fields() {
        let q = parse_query(br#"{"prompt":"hi","model":"gpt-4o","extra":1,"context":null}"#)
            .expect("valid");
        assert_eq!(q.similarity_threshold, DEFAULT_THRESHOLD);
        assert_eq!(
            (q.context, q.include_debug, q.project_id),
            (None, false, None)
        );
    }

    #[test]
    fn errors() {
        use ValidationError::*;
        assert_eq!(bad("{"), BadRequest("Invalid JSON format"));
        assert_eq!(bad("[1]"), BadRequest("Invalid JSON format"));
        assert_eq!(
            bad(r#"{"model":"m"}"#),
            BadRequest("Field required: prompt")
        );
        assert_eq!(
            bad(r#"{"prompt":"  ","model":"m"}"#),
            BadRequest("Field required: prompt")
        );
        assert_eq!(
            bad(r#"{"prompt":"p","model":null}"#),
            BadRequest("Field required: model")
        );
        assert_eq!(
            bad(r#"{"prompt":"p","model":"m","similarity_threshold":1.5}"#),
            BadRequest("similarity_threshold must be between 0 and 1")
        );
        assert_eq!(
            bad(r#"{"prompt":1,"model":"m","similarity_threshold":"x","include_debug":"yes"}"#),
            Unprocessable(vec![
                json!({"loc":["body","prompt"],"msg":"Input should be a valid string","type":"string_type"}),
                json!({"loc":["body","similarity_threshold"],"msg":"Input should be a valid number","type":"float_parsing"}),
                json!({"loc":["body","include_debug"],"msg":"Input should be a valid boolean","type":"bool_parsing"}),
            ])
        );
    }
}
