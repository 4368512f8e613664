//! Reading the fields of the plain objects JavaScript passes in, with a readable error (never
//! a panic, never napi's generic conversion message, which would echo the value) when a
//! field has the wrong type, an unknown name, or text that is not what it seems.
//!
//! An object's fields are its enumerable properties (what `for...in` visits), read in one
//! pass: each name once, each value once through that name. Asking the object for every
//! field it might have would make a property-name string per field and query, the most of
//! what a query costs the JavaScript thread.

use napi::bindgen_prelude::{Array, BufferSlice, FromNapiValue, JsObjectValue, Object, Unknown};
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

/// The fields an object has (enumerable properties whose value is neither `undefined` nor
/// `null`), each under a name it was allowed to have.
pub(crate) struct Fields<'a> {
    present: Vec<(String, Unknown<'a>)>,
}

impl<'a> Fields<'a> {
    /// The fields of `obj`; a name that is not one of `known` is refused (even with the value
    /// `undefined`), naming it and the nearest known name, so a misspelt setting is never
    /// silently ignored. `what` names a field in messages (`query field`, `client option`).
    pub(crate) fn read(obj: &Object<'a>, known: &[&str], what: &str) -> Result<Self, String> {
        Self::read_checked(obj, what, Some(known))
    }

    /// The fields of `obj`, whatever their names (a map such as `headers`).
    pub(crate) fn read_any(obj: &Object<'a>, what: &str) -> Result<Self, String> {
        Self::read_checked(obj, what, None)
    }

    fn read_checked(obj: &Object<'a>, what: &str, known: Option<&[&str]>) -> Result<Self, String> {
        let cannot = |e: napi::Error| format!("cannot read {what}: {}", e.reason);
        let env = obj.value().env;
        let mut names = std::ptr::null_mut();
        // SAFETY: `obj` is a live object of `env`; `names` receives an array of strings.
        napi::check_status!(unsafe {
            napi::sys::napi_get_property_names(env, obj.raw(), &mut names)
        })
        .map_err(cannot)?;
        // SAFETY: napi_get_property_names made `names`, an array, on `env`.
        let names = unsafe { Array::from_napi_value(env, names) }.map_err(cannot)?;
        let mut present = Vec::with_capacity(names.len() as usize);
        for i in 0..names.len() {
            let key: Unknown = names
                .get(i)
                .map_err(cannot)?
                .ok_or_else(|| format!("cannot read {what}: a property name is missing"))?;
            let name = String::from_unknown(key).map_err(cannot)?;
            if let Some(known) = known.filter(|known| !known.contains(&name.as_str())) {
                return Err(unknown_name(&name, known, what));
            }
            let value: Unknown = obj
                .get_property(key)
                .map_err(|e| format!("cannot read `{name}`: {}", e.reason))?;
            if !matches!(type_of(&value)?, ValueType::Undefined | ValueType::Null) {
                present.push((name, value));
            }
        }
        Ok(Self { present })
    }

    /// Field `name`, unless it is absent, `undefined` or `null`.
    pub(crate) fn value(&self, name: &str) -> Option<Unknown<'a>> {
        self.present
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| *value)
    }

    /// Field `name` when it has JavaScript type `expected` (not a string: see
    /// [`Fields::text`]); `None` when absent; an error naming the field otherwise.
    pub(crate) fn get<T: FromNapiValue>(
        &self,
        name: &str,
        expected: ValueType,
    ) -> Result<Option<T>, String> {
        let Some(value) = self.value(name) else {
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

    /// Field `name` as a string (see [`text`]); `None` when absent.
    pub(crate) fn text(&self, name: &str) -> Result<Option<String>, String> {
        self.value(name).map(|value| text(value, name)).transpose()
    }

    /// The field named `name` or its alias (`baseURL` for `baseUrl`, `similarity_threshold`
    /// for `similarityThreshold`): at most one of them may be given.
    pub(crate) fn either<T>(
        &self,
        name: &str,
        alias: &str,
        read: impl Fn(&Self, &str) -> Result<Option<T>, String>,
    ) -> Result<Option<T>, String> {
        match (read(self, name)?, read(self, alias)?) {
            (Some(_), Some(_)) => Err(format!(
                "give `{name}` or `{alias}`, not both (they are the same setting)"
            )),
            (value, None) | (None, value) => Ok(value),
        }
    }

    /// Field `name` as an object of string values (`headers`); empty when absent.
    pub(crate) fn string_map(&self, name: &str) -> Result<Vec<(String, String)>, String> {
        let Some(map) = self.get::<Object>(name, ValueType::Object)? else {
            return Ok(Vec::new());
        };
        let map = Fields::read_any(&map, &format!("`{name}`"))?;
        map.present
            .into_iter()
            .map(|(key, value)| {
                let value = text(value, &key)
                    .map_err(|reason| format!("`{name}` must map names to strings: {reason}"))?;
                Ok((key, value))
            })
            .collect()
    }

    /// Field `name` as PEM text: a string, a Buffer, or an array of them (as Node's own
    /// `https` options take `ca`); empty when absent.
    pub(crate) fn pem_list(&self, name: &str) -> Result<Vec<Vec<u8>>, String> {
        let Some(value) = self.value(name) else {
            return Ok(Vec::new());
        };
        let wrong =
            || format!("`{name}` must be PEM text: a string, a Buffer, or an array of them");
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

/// Why `unknown` is refused: the nearest known name, or all of them.
fn unknown_name(unknown: &str, known: &[&str], what: &str) -> String {
    match nearest(unknown, known) {
        Some(near) => format!("unknown {what} `{unknown}`; did you mean `{near}`?"),
        None => format!(
            "unknown {what} `{unknown}`; known: {}",
            known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
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
