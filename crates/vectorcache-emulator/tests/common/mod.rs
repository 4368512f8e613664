//! Shared helpers for the HTTP tests: start an emulator on a free port, send queries.

#![allow(dead_code)]

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::Value;
use vectorcache_emulator::{Emulator, EmulatorConfig, KeyConfig, ProjectConfig, RunningEmulator};

pub const KEY: &str = "vc_0123456789abcdef0123456789abcdef";
pub const OTHER_PROJECT_KEY: &str = "vc_abcdefabcdefabcdefabcdefabcdefab";
pub const REVOKED_KEY: &str = "vc_ffffffffffffffffffffffffffffffff";
pub const UNKNOWN_KEY: &str = "vc_00000000000000000000000000000000";

/// Two projects: `proj_a` (KEY active, REVOKED_KEY revoked) and `proj_b` (OTHER_PROJECT_KEY).
pub fn config() -> EmulatorConfig {
    let mut config = EmulatorConfig::with_key(KEY);
    config.projects[0].id = "proj_a".into();
    config.projects[0].keys.push(KeyConfig {
        key: REVOKED_KEY.into(),
        revoked: true,
    });
    config.projects.push(ProjectConfig {
        id: "proj_b".into(),
        keys: vec![KeyConfig {
            key: OTHER_PROJECT_KEY.into(),
            revoked: false,
        }],
    });
    config
}

pub async fn start_with(config: EmulatorConfig) -> RunningEmulator {
    Emulator::start(config, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("emulator starts")
}

pub async fn start() -> RunningEmulator {
    start_with(config()).await
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `detail` string of an error answer.
    pub fn detail(&self) -> String {
        self.json()["detail"]
            .as_str()
            .unwrap_or_else(|| panic!("no string detail: {}", self.text))
            .to_owned()
    }
}

pub async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    Answer {
        status,
        headers,
        text,
    }
}

/// POSTs a raw body to /v1/cache/query with `Authorization: Bearer <key>` when a key is given.
pub async fn query_raw(
    emu: &RunningEmulator,
    key: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> Answer {
    let mut request = client()
        .post(format!("{}/v1/cache/query", emu.url()))
        .header("content-type", "application/json")
        .body(body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    answer(request.send().await.expect("request sent")).await
}

pub async fn query(emu: &RunningEmulator, body: Value) -> Answer {
    query_raw(emu, Some(KEY), body.to_string()).await
}

pub async fn faults(emu: &RunningEmulator, body: Value) -> Answer {
    answer(
        client()
            .post(format!("{}/_emulator/faults", emu.url()))
            .json(&body)
            .send()
            .await
            .expect("request sent"),
    )
    .await
}

pub async fn requests_log(emu: &RunningEmulator) -> Answer {
    answer(
        client()
            .get(format!("{}/_emulator/requests", emu.url()))
            .send()
            .await
            .expect("request sent"),
    )
    .await
}
