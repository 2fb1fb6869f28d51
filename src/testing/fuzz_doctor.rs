//! `doctor` against a hostile registry the fuzzer scripts: two servers on 127.0.0.1,
//! the registry and another port, answer each request with the next reply of their
//! script (challenges with realms elsewhere, with user info, repeated; redirects to
//! another host, to a loop, to another scheme; tokens; the password echoed back in
//! every encoding; control bytes and large headers; bytes that are not HTTP). Whatever
//! they answer, doctor ends, never prints the password in any form, and sends the
//! credentials to the other port only where it judged the realm right.

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine;

use super::server::{Seen, Server, response};
use crate::doctor::{self, Options};
use crate::endpoint::Scheme;

const USER: &str = "fuzz-robot";
/// A password that %-encoding, JSON and base64 all write differently.
const PASSWORD: &str = "pw d/+\"é-secret";

/// At most this many replies per server.
const MAX_REPLIES: usize = 8;

fn basic() -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
}

/// Every form of the password that must not be printed.
fn password_forms() -> Vec<String> {
    let pct = |upper: bool| -> String {
        PASSWORD
            .bytes()
            .map(|b| match (b.is_ascii_alphanumeric(), upper) {
                (true, _) => (b as char).to_string(),
                (false, true) => format!("%{b:02X}"),
                (false, false) => format!("%{b:02x}"),
            })
            .collect()
    };
    vec![
        PASSWORD.to_string(),
        pct(true),
        pct(false),
        pct(true).replace("%20", "+"),
        serde_json::to_string(PASSWORD).unwrap_or_default(),
        basic(),
        basic().trim_end_matches('=').to_string(),
    ]
}

/// The ports a reply may name.
#[derive(Clone, Copy)]
struct Ports {
    registry: u16,
    other: u16,
}

/// One scripted reply: `kind` picks the shape, `p` its variant.
fn reply(kind: u8, p: u8, ports: Ports) -> Vec<u8> {
    let (r, e) = (ports.registry, ports.other);
    let api = "Docker-Distribution-Api-Version: registry/2.0".to_string();
    match kind % 12 {
        0 => response("200 OK", &[api], "{}"),
        1 => response(
            "200 OK",
            &["Content-Type: text/html".into()],
            "<html></html>",
        ),
        2 => challenge(p, ports),
        3 => response(
            "401 Unauthorized",
            &["Www-Authenticate: Basic realm=\"r\"".into()],
            "",
        ),
        4 => redirect(p, ports),
        5 => response("200 OK", &[], &format!(r#"{{"token":"tok-{p}-abcdef"}}"#)),
        6 => response(
            "200 OK",
            &[],
            &format!(r#"{{"access_token":"acc-{p}-abcdef"}}"#),
        ),
        7 => echo(p),
        8 => {
            let c = char::from(p % 32);
            response(
                "401 Unauthorized",
                &[format!(
                    "Www-Authenticate: Bearer realm=\"http://127.0.0.1:{r}/t{c}oken\""
                )],
                "",
            )
        }
        9 => {
            let big = "b".repeat(usize::from(p) << 12);
            response(
                "401 Unauthorized",
                &[format!(
                    "Www-Authenticate: Bearer realm=\"http://127.0.0.1:{r}/token\",state=\"{big}\""
                )],
                "",
            )
        }
        10 => match p % 3 {
            0 => b"\x15\x03\x01\x00\x02\x02\x50".to_vec(),
            1 => b"HTTP/1.1 200".to_vec(),
            _ => format!("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort {e}").into_bytes(),
        },
        _ => match p % 2 {
            0 => response(
                "404 Not Found",
                &[api],
                r#"{"errors":[{"code":"NAME_UNKNOWN"}]}"#,
            ),
            _ => response(
                "403 Forbidden",
                &[format!(
                    "Www-Authenticate: Bearer realm=\"http://127.0.0.1:{r}/token\",error=\"insufficient_scope\""
                )],
                "",
            ),
        },
    }
}

/// A 401 with a Bearer challenge whose realm is one of the hostile ones.
fn challenge(
    p: u8,
    Ports {
        registry: r,
        other: e,
    }: Ports,
) -> Vec<u8> {
    let realm = match p % 8 {
        0 => format!("realm=\"http://127.0.0.1:{r}/token\""),
        1 => format!("realm=\"http://127.0.0.1:{e}/token\""),
        2 => format!("realm=\"http://u:{PASSWORD}@127.0.0.1:{e}/token\""),
        3 => format!("realm=\"http://127.0.0.1:{e}/token\",realm=\"http://127.0.0.1:{r}/token\""),
        4 => format!("realm=\"http://127.0.0.1:{r}/token\",realm=\"http://127.0.0.1:{e}/token\""),
        5 => format!("realm=\"https://127.0.0.1:{r}/token\""),
        6 => "realm=\"/token\"".to_string(),
        _ => format!("realm=http://127.0.0.1:{r}/token"),
    };
    let service = if p & 8 == 0 {
        "registry"
    } else {
        "harbor-registry"
    };
    response(
        "401 Unauthorized",
        &[format!(
            "Www-Authenticate: Bearer {realm},service=\"{service}\""
        )],
        "",
    )
}

/// A redirect to one of the places a hostile registry sends clients.
fn redirect(
    p: u8,
    Ports {
        registry: r,
        other: e,
    }: Ports,
) -> Vec<u8> {
    let pct: String = PASSWORD.bytes().map(|b| format!("%{b:02X}")).collect();
    let to = match p % 9 {
        0 => format!("http://localhost:{r}/v2/"),
        1 => format!("http://127.0.0.1:{e}/v2/"),
        2 => "/v2/".to_string(),
        3 => format!("http://127.0.0.1:{e}/token"),
        4 => "token".to_string(),
        5 => "ftp://127.0.0.1/".to_string(),
        6 => format!("//127.0.0.1:{e}/x"),
        7 => format!("https://127.0.0.1:{r}/v2/"),
        _ => format!("http://127.0.0.1:{e}/?pw={pct}"),
    };
    let status = [
        "301 Moved Permanently",
        "302 Found",
        "307 Temporary Redirect",
    ][usize::from(p % 3)];
    response(status, &[format!("Location: {to}")], "")
}

/// A 401 whose body echoes the password in one of its encodings.
fn echo(p: u8) -> Vec<u8> {
    let forms = password_forms();
    let form = &forms[usize::from(p) % forms.len()];
    response(
        "401 Unauthorized",
        &[],
        &format!("{{\"errors\":[{{\"message\":\"bad credentials {form}\"}}]}}"),
    )
}

/// A server answering with `script`'s replies in turn (the last again when they run out).
fn scripted(script: Vec<(u8, u8)>, ports: Arc<[AtomicU16; 2]>) -> Option<Server> {
    let next = AtomicUsize::new(0);
    Server::start(Arc::new(move |_: u16, _: &Seen| {
        let i = next.fetch_add(1, Ordering::SeqCst);
        let (kind, p) = script
            .get(i.min(script.len().saturating_sub(1)))
            .copied()
            .unwrap_or((0, 0));
        let ports = Ports {
            registry: ports[0].load(Ordering::SeqCst),
            other: ports[1].load(Ordering::SeqCst),
        };
        reply(kind, p, ports)
    }))
    .ok()
}

/// Runs doctor against the two servers `data` scripts (its first byte: whether to
/// ask for a repository; then two bytes a reply, the registry's first, split in half)
/// and checks the properties above.
pub fn check_doctor_server(data: &[u8]) {
    let (flags, rest) = data.split_first().unwrap_or((&0, &[]));
    let pairs: Vec<(u8, u8)> = rest
        .chunks(2)
        .map(|c| (c[0], *c.get(1).unwrap_or(&0)))
        .collect();
    let half = pairs.len().div_ceil(2).min(MAX_REPLIES);
    let registry_script = pairs[..half].to_vec();
    let other_script: Vec<(u8, u8)> = pairs[half..].iter().take(MAX_REPLIES).copied().collect();
    let ports = Arc::new([AtomicU16::new(0), AtomicU16::new(0)]);
    let (Some(registry), Some(other)) = (
        scripted(registry_script, ports.clone()),
        scripted(other_script, ports.clone()),
    ) else {
        return;
    };
    ports[0].store(registry.port, Ordering::SeqCst);
    ports[1].store(other.port, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!(
        "hbfn-fuzz-doctor-{}-{}",
        std::process::id(),
        registry.port
    ));
    let _ = std::fs::create_dir_all(&dir);
    let config = dir.join("config.json");
    let auths = serde_json::json!({"auths": {registry.addr(): {"auth": basic()}}});
    if std::fs::write(&config, auths.to_string()).is_err() {
        return;
    }
    let Ok(reg) = crate::registry(&registry.addr(), crate::Via::Flag) else {
        return;
    };
    let opts = Options {
        registry: reg,
        scheme: Scheme::Http,
        docker_config: Some(config),
        repository: (flags & 1 == 1).then(|| "library/app".to_string()),
        timeout: Duration::from_secs(3),
        ca_file: None,
        insecure_skip_verify: false,
    };
    let report = doctor::run(&opts);
    let _ = std::fs::remove_dir_all(&dir);
    let text = report.render();
    for form in password_forms() {
        assert!(!text.contains(&form), "{form:?} printed:\n{text}");
    }
    let credentials = format!("Basic {}", basic());
    let judged_right = report.realm_judged_right();
    for seen in other.seen() {
        assert!(
            seen.header("authorization") != Some(credentials.as_str()) || judged_right,
            "credentials sent to the other port, where doctor did not judge the realm right:\n{seen:?}\n{text}"
        );
    }
}
