//! Reading the fields of the plain objects JavaScript passes in, with a readable error (never
//! a panic, never napi's generic conversion message, which would echo the value) when a
//! field has the wrong type.

use napi::bindgen_prelude::{FromNapiValue, Object, Unknown};
use napi::ValueType;

/// The object behind an argument: `Ok(None)` for `undefined`/`null`, an error naming `what`
/// for anything that is not an object.
pub(crate) fn object_arg<'a>(value: Unknown<'a>, what: &str) -> Result<Option<Object<'a>>, String> {
    match type_of(&value)? {
        ValueType::Undefined | ValueType::Null => Ok(None),
        ValueType::Object => Object::from_unknown(value)
            .map(Some)
            .map_err(|e| format!("cannot read {what}: {}", e.reason)),
        other => Err(format!(
            "{what} must be an object, got {}",
            type_name(other)
        )),
    }
}

/// Field `name` of `obj` when it has JavaScript type `expected`; `None` when it is absent,
/// `undefined` or `null`; an error naming the field otherwise.
pub(crate) fn field<T: FromNapiValue>(
    obj: &Object,
    name: &str,
    expected: ValueType,
) -> Result<Option<T>, String> {
    let value: Option<Unknown> = obj
        .get(name)
        .map_err(|e| format!("cannot read `{name}`: {}", e.reason))?;
    let Some(value) = value else {
        return Ok(None);
    };
    match type_of(&value)? {
        ValueType::Undefined | ValueType::Null => Ok(None),
        actual if actual == expected => T::from_unknown(value)
            .map(Some)
            .map_err(|e| format!("cannot read `{name}`: {}", e.reason)),
        actual => Err(format!(
            "`{name}` must be a {}, got {}",
            type_name(expected),
            type_name(actual)
        )),
    }
}

/// Field `name` of `obj` as an object of string values (`headers`); empty when absent.
pub(crate) fn string_map(obj: &Object, name: &str) -> Result<Vec<(String, String)>, String> {
    let Some(map) = field::<Object>(obj, name, ValueType::Object)? else {
        return Ok(Vec::new());
    };
    let keys: Vec<String> =
        Object::keys(&map).map_err(|e| format!("cannot read `{name}`: {}", e.reason))?;
    let mut entries = Vec::with_capacity(keys.len());
    for key in keys {
        let value: Option<String> = field(&map, &key, ValueType::String)
            .map_err(|_| format!("`{name}` must map names to strings; `{key}` does not"))?;
        if let Some(value) = value {
            entries.push((key, value));
        }
    }
    Ok(entries)
}

fn type_of(value: &Unknown) -> Result<ValueType, String> {
    value
        .get_type()
        .map_err(|e| format!("cannot inspect a value: {}", e.reason))
}

/// The `typeof`-style name of a JavaScript type, for messages.
fn type_name(t: ValueType) -> &'static str {
    match t {
        ValueType::Undefined => "undefined",
        ValueType::Null => "null",
        ValueType::Boolean => "boolean",
        ValueType::Number => "number",
        ValueType::String => "string",
        ValueType::Symbol => "symbol",
        ValueType::Object => "object",
        ValueType::Function => "function",
        ValueType::External => "external",
        _ => "value of another type",
    }
}
