//! Which GHL base URLs Leadline will send its token to.
//!
//! The token goes out in every request's `Authorization` header, so the base URL must be
//! `https://`. Plain `http://` is allowed for loopback only (`127.0.0.0/8`, `::1`,
//! `localhost`), where the simulator runs in tests and the demo: nothing crosses a network.

use std::net::IpAddr;

use reqwest::Url;

/// Why `[ghl] base_url` is refused. Each message names the setting and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BaseUrlError {
    #[error(
        "[ghl] base_url {url:?} is not a URL ({reason}); set it to https://services.leadconnectorhq.com (the default) or remove it from your config"
    )]
    NotAUrl { url: String, reason: String },
    #[error(
        "[ghl] base_url {url:?} must start with https:// (plain http:// is allowed only for a simulator on this machine: 127.0.0.1, ::1 or localhost)"
    )]
    Scheme { url: String },
    #[error(
        "[ghl] base_url {url:?} uses plain http to {host}, which is not this machine: the GHL token would cross the network unencrypted. Use https:// (plain http:// is allowed only for 127.0.0.1, ::1 or localhost)"
    )]
    PlainHttpOffLoopback { url: String, host: String },
}

/// Parses `raw` and checks its scheme: `https` anywhere, `http` for loopback hosts only.
pub fn check_base_url(raw: &str) -> Result<Url, BaseUrlError> {
    let shown = raw.trim();
    let url = Url::parse(shown)
        .map_err(|e| BaseUrlError::NotAUrl { url: shown.to_owned(), reason: e.to_string() })?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if url.host_str().is_some_and(is_loopback) => Ok(url),
        "http" => Err(BaseUrlError::PlainHttpOffLoopback {
            url: shown.to_owned(),
            host: url.host_str().unwrap_or("no host").to_owned(),
        }),
        _ => Err(BaseUrlError::Scheme { url: shown.to_owned() }),
    }
}

/// `host` as the URL parser serialized it: IPv4 normalized (`0x7f.1` is `127.0.0.1`), IPv6 in
/// brackets, domains lower-cased.
fn is_loopback(host: &str) -> bool {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    match bare.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(IpAddr::V6(ip)) => ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        // A trailing dot names the same host.
        Err(_) => bare.trim_end_matches('.') == "localhost",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_goes_anywhere() {
        for url in ["https://services.leadconnectorhq.com", "https://10.0.0.5:8443/", "https://[2001:db8::1]"]
        {
            assert!(check_base_url(url).is_ok(), "{url}");
        }
    }

    #[test]
    fn plain_http_only_for_loopback() {
        for url in [
            "http://127.0.0.1:41234",
            "http://127.8.9.10",
            "http://[::1]:8080/",
            "http://[::ffff:127.0.0.1]",
            "http://localhost:3000",
            "http://LOCALHOST",
            "http://localhost.",
            "http://0x7f.1",
            " http://127.0.0.1:9/ ",
        ] {
            assert!(check_base_url(url).is_ok(), "{url}");
        }
        for (url, host) in [
            ("http://services.leadconnectorhq.com", "services.leadconnectorhq.com"),
            ("http://10.0.0.5", "10.0.0.5"),
            ("http://128.0.0.1", "128.0.0.1"),
            ("http://[::2]", "[::2]"),
            ("http://localhost.evil.example", "localhost.evil.example"),
            ("http://127.0.0.1.evil.example", "127.0.0.1.evil.example"),
            // The part before @ is a user name, not the host.
            ("http://127.0.0.1@evil.example", "evil.example"),
            ("http://0.0.0.0", "0.0.0.0"),
        ] {
            let err = check_base_url(url).expect_err(url);
            assert_eq!(err, BaseUrlError::PlainHttpOffLoopback { url: url.into(), host: host.into() });
            let msg = err.to_string();
            assert!(msg.contains("[ghl] base_url") && msg.contains("https://"), "{msg}");
        }
    }

    #[test]
    fn other_schemes_and_non_urls_name_the_fix() {
        let err = check_base_url("ftp://127.0.0.1").expect_err("ftp");
        assert!(matches!(err, BaseUrlError::Scheme { .. }), "{err}");
        let err = check_base_url("services.leadconnectorhq.com").expect_err("no scheme");
        assert!(matches!(err, BaseUrlError::NotAUrl { .. }), "{err}");
        assert!(err.to_string().contains("https://services.leadconnectorhq.com"), "{err}");
    }
}
