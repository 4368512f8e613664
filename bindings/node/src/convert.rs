//! Reading the fields of the plain objects JavaScript passes in, with a readable error (never
//! a panic, never napi's generic conversion message, which would echo the value) when a
//! field has the wrong type, an unknown name, or text that is not what it seems.

use napi::bindgen_prelude::{Array, BufferSlice, FromNapiValue, Object, Unknown};
use napi::{JsString, JsValue, ValueType};
use vectorcache::bindings::lone_surrogate;

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

/// Field `name` of `obj` when it has JavaScript type `expected` (not a string: see
/// [`text_field`]); `None` when it is absent, `undefined` or `null`; an error naming the
/// field otherwise.
pub(crate) fn field<T: FromNapiValue>(
    obj: &Object,
    name: &str,
    expected: ValueType,
) -> Result<Option<T>, String> {
    let Some(value) = present(obj, name)? else {
        return Ok(None);
    };
    match type_of(&value)? {
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

/// Field `name` of `obj` as a string (see [`text`]); `None` when absent.
pub(crate) fn text_field(obj: &Object, name: &str) -> Result<Option<String>, String> {
    match present(obj, name)? {
        Some(value) => text(value, name).map(Some),
        None => Ok(None),
    }
}

/// A JavaScript string as Rust text. Read as UTF-16: napi's UTF-8 conversion silently turns
/// a lone surrogate into U+FFFD, which would make two different prompts one cache key.
pub(crate) fn text(value: Unknown, name: &str) -> Result<String, String> {
    match type_of(&value)? {
        ValueType::String => {}
        actual => {
            return Err(format!(
                "`{name}` must be a string, got {}",
                type_name(actual)
            ))
        }
    }
    let utf16 = JsString::from_unknown(value)
        .and_then(|s| s.into_utf16())
        .map_err(|e| format!("cannot read `{name}`: {}", e.reason))?;
    // as_str drops the terminating NUL napi writes, and fails on an unpaired surrogate.
    utf16.as_str().map_err(|_| lone_surrogate(name))
}

/// The field named `name` or its alias (`baseURL` for `baseUrl`, `similarity_threshold` for
/// `similarityThreshold`): at most one of them may be given.
pub(crate) fn either_name<T>(
    obj: &Object,
    name: &str,
    alias: &str,
    read: impl Fn(&Object, &str) -> Result<Option<T>, String>,
) -> Result<Option<T>, String> {
    match (read(obj, name)?, read(obj, alias)?) {
        (Some(_), Some(_)) => Err(format!(
            "give `{name}` or `{alias}`, not both (they are the same setting)"
        )),
        (value, None) | (None, value) => Ok(value),
    }
}

/// Refuses a key of `obj` that is not one of `known`, naming it and the nearest known key,
/// so a misspelt setting is never silently ignored.
pub(crate) fn only_known_keys(obj: &Object, known: &[&str], what: &str) -> Result<(), String> {
    let keys = Object::keys(obj).map_err(|e| format!("cannot read {what}: {}", e.reason))?;
    match keys.iter().find(|key| !known.contains(&key.as_str())) {
        None => Ok(()),
        Some(unknown) => Err(match nearest(unknown, known) {
            Some(near) => format!("unknown {what} `{unknown}`; did you mean `{near}`?"),
            None => format!(
                "unknown {what} `{unknown}`; known: {}",
                known
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// The known key closest to `unknown`, if any is close: the same letters in another case or
/// spelling (`max_retries` for `maxRetries`), or a few edits away.
fn nearest<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    let fold = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
            .collect()
    };
    let wanted = fold(unknown);
    known
        .iter()
        .map(|k| (edit_distance(&wanted, &fold(k)), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Field `name` of `obj` as an object of string values (`headers`); empty when absent.
pub(crate) fn string_map(obj: &Object, name: &str) -> Result<Vec<(String, String)>, String> {
    let Some(map) = field::<Object>(obj, name, ValueType::Object)? else {
        return Ok(Vec::new());
    };
    let keys = Object::keys(&map).map_err(|e| format!("cannot read `{name}`: {}", e.reason))?;
    let mut entries = Vec::with_capacity(keys.len());
    for key in keys {
        let value = text_field(&map, &key)
            .map_err(|reason| format!("`{name}` must map names to strings: {reason}"))?;
        if let Some(value) = value {
            entries.push((key, value));
        }
    }
    Ok(entries)
}

/// Field `name` of `obj` as PEM text: a string, a Buffer, or an array of them (as Node's own
/// `https` options take `ca`); empty when absent.
pub(crate) fn pem_list(obj: &Object, name: &str) -> Result<Vec<Vec<u8>>, String> {
    let Some(value) = present(obj, name)? else {
        return Ok(Vec::new());
    };
    let wrong = || format!("`{name}` must be PEM text: a string, a Buffer, or an array of them");
    let one = |value: Unknown| -> Result<Vec<u8>, String> {
        match type_of(&value)? {
            ValueType::String => text(value, name).map(String::into_bytes),
            ValueType::Object if value.is_buffer().unwrap_or(false) => {
                BufferSlice::from_unknown(value)
                    .map(|b| b.to_vec())
                    .map_err(|_| wrong())
            }
            _ => Err(wrong()),
        }
    };
    if type_of(&value)? == ValueType::Object && value.is_array().unwrap_or(false) {
        let array = Array::from_unknown(value).map_err(|_| wrong())?;
        return (0..array.len())
            .map(|i| one(array.get::<Unknown>(i).ok().flatten().ok_or_else(wrong)?))
            .collect();
    }
    one(value).map(|pem| vec![pem])
}

/// Field `name` of `obj`, unless it is absent, `undefined` or `null`.
/// Field `name` of `obj`; `None` when it is absent, `undefined` or `null`.
pub(crate) fn present<'a>(obj: &Object<'a>, name: &str) -> Result<Option<Unknown<'a>>, String> {
    let value: Option<Unknown> = obj
        .get(name)
        .map_err(|e| format!("cannot read `{name}`: {}", e.reason))?;
    match value {
        Some(value) if !matches!(type_of(&value)?, ValueType::Undefined | ValueType::Null) => {
            Ok(Some(value))
        }
        _ => Ok(None),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_known_key() {
        let known = [
            "prompt",
            "model",
            "similarityThreshold",
            "includeDebug",
            "projectId",
        ];
        assert_eq!(
            nearest("similarity_treshold", &known),
            Some("similarityThreshold")
        );
        assert_eq!(nearest("promt", &known), Some("prompt"));
        assert_eq!(nearest("ProjectID", &known), Some("projectId"));
        assert_eq!(nearest("temperature", &known), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
