//! Objects built with property names made once per JavaScript thread.
//!
//! napi-rs's derived conversion makes a new string for every property name of every object
//! it builds, which V8 then looks up in its string table: eleven per answer. The answers are
//! built here instead, with names made once when the thread's delivery starts, kept alive by
//! a reference to an array holding them, and read from that array at most once per
//! delivered batch.

use std::ptr;

use napi::{check_status, sys};

/// A property name of the objects built here.
#[derive(Clone, Copy)]
pub(crate) enum Name {
    Result,
    Error,
    Aborted,
    Outcomes,
    CacheHit,
    Response,
    SimilarityScore,
    CostSaved,
    LlmProvider,
    Debug,
    RateLimit,
    RequestId,
    Limit,
    Remaining,
    Reset,
    EmbeddingTimeMs,
    SearchTimeMs,
    TotalTimeMs,
    MatchedCacheEntryId,
    CacheEntryCount,
}

/// Each [`Name`] as JavaScript spells it, in the enum's order.
const SPELLINGS: [&str; 20] = [
    "result",
    "error",
    "aborted",
    "outcomes",
    "cache_hit",
    "response",
    "similarity_score",
    "cost_saved",
    "llm_provider",
    "debug",
    "rateLimit",
    "requestId",
    "limit",
    "remaining",
    "reset",
    "embedding_time_ms",
    "search_time_ms",
    "total_time_ms",
    "matched_cache_entry_id",
    "cache_entry_count",
];

/// The names of one JavaScript thread, made once.
pub(crate) struct PropertyNames {
    /// A strong reference to the array of names. Never deleted: it lives as long as the
    /// thread's environment, which frees it when it ends.
    array: sys::napi_ref,
}

impl PropertyNames {
    /// Makes the names on `env`'s thread.
    pub(crate) fn new(env: sys::napi_env) -> napi::Result<Self> {
        let mut array = ptr::null_mut();
        check_status!(unsafe {
            sys::napi_create_array_with_length(env, SPELLINGS.len(), &mut array)
        })?;
        for (index, spelling) in SPELLINGS.iter().enumerate() {
            let name = string(env, spelling)?;
            check_status!(unsafe { sys::napi_set_element(env, array, index as u32, name) })?;
        }
        let mut reference = ptr::null_mut();
        check_status!(unsafe { sys::napi_create_reference(env, array, 1, &mut reference) })?;
        Ok(Self { array: reference })
    }

    /// A builder for one turn on the JavaScript thread of `env` (the values it makes belong
    /// to that turn's handle scope).
    pub(crate) fn builder(&self, env: sys::napi_env) -> napi::Result<Builder> {
        let mut array = ptr::null_mut();
        check_status!(unsafe { sys::napi_get_reference_value(env, self.array, &mut array) })?;
        Ok(Builder {
            env,
            array,
            names: [ptr::null_mut(); SPELLINGS.len()],
        })
    }
}

/// Makes objects and values on one JavaScript thread, during one turn.
pub(crate) struct Builder {
    pub(crate) env: sys::napi_env,
    array: sys::napi_value,
    /// The names read from `array` so far (null: not yet).
    names: [sys::napi_value; SPELLINGS.len()],
}

impl Builder {
    fn name(&mut self, name: Name) -> napi::Result<sys::napi_value> {
        let slot = &mut self.names[name as usize];
        if slot.is_null() {
            check_status!(unsafe {
                sys::napi_get_element(self.env, self.array, name as u32, slot)
            })?;
        }
        Ok(*slot)
    }

    /// A new empty object.
    pub(crate) fn object(&self) -> napi::Result<sys::napi_value> {
        let mut object = ptr::null_mut();
        check_status!(unsafe { sys::napi_create_object(self.env, &mut object) })?;
        Ok(object)
    }

    /// Sets an ordinary (enumerable, writable) property.
    pub(crate) fn set(
        &mut self,
        object: sys::napi_value,
        name: Name,
        value: sys::napi_value,
    ) -> napi::Result<()> {
        let key = self.name(name)?;
        check_status!(unsafe { sys::napi_set_property(self.env, object, key, value) })
    }

    /// Defines read-only properties that `JSON.stringify`, spreads and `deepEqual` skip.
    pub(crate) fn hide<const N: usize>(
        &mut self,
        object: sys::napi_value,
        properties: [(Name, sys::napi_value); N],
    ) -> napi::Result<()> {
        // On the stack: this runs once per answer.
        let mut descriptors = [sys::napi_property_descriptor {
            utf8name: ptr::null(),
            name: ptr::null_mut(),
            method: None,
            getter: None,
            setter: None,
            value: ptr::null_mut(),
            attributes: sys::PropertyAttributes::default,
            data: ptr::null_mut(),
        }; N];
        for (descriptor, (name, value)) in descriptors.iter_mut().zip(properties) {
            descriptor.name = self.name(name)?;
            descriptor.value = value;
        }
        check_status!(unsafe {
            sys::napi_define_properties(self.env, object, N, descriptors.as_ptr())
        })
    }

    pub(crate) fn string(&self, text: &str) -> napi::Result<sys::napi_value> {
        string(self.env, text)
    }

    pub(crate) fn number(&self, n: f64) -> napi::Result<sys::napi_value> {
        let mut value = ptr::null_mut();
        check_status!(unsafe { sys::napi_create_double(self.env, n, &mut value) })?;
        Ok(value)
    }

    pub(crate) fn boolean(&self, b: bool) -> napi::Result<sys::napi_value> {
        let mut value = ptr::null_mut();
        check_status!(unsafe { sys::napi_get_boolean(self.env, b, &mut value) })?;
        Ok(value)
    }

    /// JavaScript `null`.
    pub(crate) fn null(&self) -> napi::Result<sys::napi_value> {
        let mut value = ptr::null_mut();
        check_status!(unsafe { sys::napi_get_null(self.env, &mut value) })?;
        Ok(value)
    }

    /// JavaScript `undefined`.
    pub(crate) fn undefined(&self) -> napi::Result<sys::napi_value> {
        let mut value = ptr::null_mut();
        check_status!(unsafe { sys::napi_get_undefined(self.env, &mut value) })?;
        Ok(value)
    }
}

/// `text` as a JavaScript string. ASCII text (most answers, every name) is copied as
/// Latin-1, which skips the UTF-8 decoding.
fn string(env: sys::napi_env, text: &str) -> napi::Result<sys::napi_value> {
    let mut value = ptr::null_mut();
    let (bytes, len) = (text.as_ptr().cast(), text.len() as isize);
    check_status!(unsafe {
        if text.is_ascii() {
            sys::napi_create_string_latin1(env, bytes, len, &mut value)
        } else {
            sys::napi_create_string_utf8(env, bytes, len, &mut value)
        }
    })?;
    Ok(value)
}
