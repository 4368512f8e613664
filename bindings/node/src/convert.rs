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

/// The entries of an iterable object (`Map`, `Headers`, an array), as `Array.from(obj)` gives
/// them; `None` for a plain object, which has no `Symbol.iterator`.
fn entries_of<'a>(obj: &Object<'a>) -> Result<Option<Vec<Unknown<'a>>>, String> {
    use napi::sys;
    let env = obj.value().env;
    let cannot = |e: napi::Error| format!("cannot read the headers: {}", reason(env, e));
    let named = |target: sys::napi_value, property: &std::ffi::CStr| {
        let mut value = std::ptr::null_mut();
        // SAFETY: `target` is a live object of `env`; `value` receives a handle.
        napi::check_status!(unsafe {
            sys::napi_get_named_property(env, target, property.as_ptr(), &mut value)
        })
        .map(|()| value)
    };
    let mut global = std::ptr::null_mut();
    // SAFETY: `env` is live, on its thread.
    napi::check_status!(unsafe { sys::napi_get_global(env, &mut global) }).map_err(cannot)?;
    let iterator = named(named(global, c"Symbol").map_err(cannot)?, c"iterator").map_err(cannot)?;
    let mut iterable = false;
    // SAFETY: as above; `iterator` is the well-known symbol.
    napi::check_status!(unsafe { sys::napi_has_property(env, obj.raw(), iterator, &mut iterable) })
        .map_err(cannot)?;
    if !iterable {
        return Ok(None);
    }
    let array_class = named(global, c"Array").map_err(cannot)?;
    let from = named(array_class, c"from").map_err(cannot)?;
    let mut entries = std::ptr::null_mut();
    let args = [obj.raw()];
    // SAFETY: `from` is Array.from, called on Array with one argument of `env`.
    napi::check_status!(unsafe {
        sys::napi_call_function(env, array_class, from, 1, args.as_ptr(), &mut entries)
    })
    .map_err(cannot)?;
    // SAFETY: Array.from returned an array of `env`.
    let entries = unsafe { Array::from_napi_value(env, entries) }.map_err(cannot)?;
    (0..entries.len())
        .map(|i| {
            entries
                .get(i)
                .map_err(cannot)?
                .ok_or_else(|| "cannot read the headers: an entry is missing".to_owned())
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Why a read of a JavaScript value failed. A getter or Proxy trap that threw leaves its
/// exception pending, which would reject the whole call once the native function returns
/// (a batch and all its other queries with it): it is taken here, and its text (what
/// `String(exception)` gives) is the reason, so the read fails alone and says why.
pub(crate) fn reason(env: napi::sys::napi_env, error: napi::Error) -> String {
    // Node reports a throwing getter as a generic failure, not napi_pending_exception: ask.
    let mut pending = false;
    // SAFETY: `env` is the live environment the read ran in, on its thread.
    let asked = unsafe { napi::sys::napi_is_exception_pending(env, &mut pending) };
    if asked != napi::sys::Status::napi_ok || !pending {
        return error.reason.clone();
    }
    let mut exception = std::ptr::null_mut();
    let mut text = std::ptr::null_mut();
    // SAFETY: `env` is the live environment the read ran in, on its thread; both out
    // pointers receive a handle.
    let said = unsafe {
        napi::sys::napi_get_and_clear_last_exception(env, &mut exception)
            == napi::sys::Status::napi_ok
            && napi::sys::napi_coerce_to_string(env, exception, &mut text)
                == napi::sys::Status::napi_ok
    };
    // SAFETY: as above; `text` is a string handle when `said`.
    let message = said
        .then(|| unsafe { String::from_napi_value(env, text) }.ok())
        .flatten();
    message.unwrap_or_else(|| {
        // Its toString threw as well: take that exception too, and say only that it threw.
        let mut again = std::ptr::null_mut();
        // SAFETY: as above.
        unsafe { napi::sys::napi_get_and_clear_last_exception(env, &mut again) };
        "it threw an exception".to_owned()
    })
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
        let env = obj.value().env;
        let cannot = |e: napi::Error| format!("cannot read {what}: {}", reason(env, e));
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
                .map_err(|e| format!("cannot read `{name}`: {}", reason(env, e)))?;
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

    /// Field `name` as names and string values (`headers`), in the shapes `fetch` takes: an
    /// object, a `Map` or `Headers`, or an array of `[name, value]` pairs; empty when absent.
    /// (A `Map` has no fields of its own: read as an object, its entries would be lost.)
    pub(crate) fn string_map(&self, name: &str) -> Result<Vec<(String, String)>, String> {
        let Some(map) = self.get::<Object>(name, ValueType::Object)? else {
            return Ok(Vec::new());
        };
        let must_map = |reason: String| format!("`{name}` must map names to strings: {reason}");
        if let Some(pairs) = entries_of(&map)? {
            return pairs
                .into_iter()
                .map(|pair| {
                    let pair = Array::from_unknown(pair)
                        .ok()
                        .filter(|pair| pair.len() == 2)
                        .ok_or_else(|| {
                            format!(
                                "`{name}` as a list must hold [name, value] pairs, as fetch's \
                                 headers do"
                            )
                        })?;
                    let read = |i| -> Result<String, String> {
                        let value: Unknown =
                            pair.get(i)
                                .map_err(|e| reason(map.value().env, e))?
                                .ok_or_else(|| "a pair is missing a part".to_owned())?;
                        text(
                            value,
                            if i == 0 {
                                "a header name"
                            } else {
                                "a header value"
                            },
                        )
                    };
                    Ok((read(0).map_err(must_map)?, read(1).map_err(must_map)?))
                })
                .collect();
        }
        let map = Fields::read_any(&map, &format!("`{name}`"))?;
        map.present
            .into_iter()
            .map(|(key, value)| Ok((key.clone(), text(value, &key).map_err(must_map)?)))
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
        // napi4's ValueType has no BigInt; it is the only other type a value can have.
        _ => "bigint",
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
