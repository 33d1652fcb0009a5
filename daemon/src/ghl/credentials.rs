//! The GHL token and location: where they come from and how they are kept out of logs.

use std::fmt;
use std::path::{Path, PathBuf};

use leadline_shared::config::GhlConfig;

use super::error::GhlError;

/// The env var holding the Private Integration Token (or OAuth access token). It wins over
/// `[ghl] token_file`.
pub const ENV_API_KEY: &str = "GHL_API_KEY";
/// The env var holding the location (sub-account) id. It wins over `[ghl] location_id`.
pub const ENV_LOCATION_ID: &str = "GHL_LOCATION_ID";

/// A secret string (the bearer token). `Debug` and `Display` print `***`; only
/// [`Secret::expose`] gives the value, and the client uses it for the `Authorization` header
/// alone.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret value. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret(value.to_owned())
    }
}

/// What the client authenticates with: the token and the one location it mirrors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// The bearer token (a Private Integration Token or an OAuth access token).
    pub token: Secret,
    /// The location (sub-account) id.
    pub location_id: String,
}

impl Credentials {
    /// Finds the token and the location id.
    ///
    /// - Token: the env var `GHL_API_KEY` if set and not blank; else the file named by
    ///   `[ghl] token_file` (`~/` is expanded with `HOME`). The file must not be readable or
    ///   writable by group or others (mode `0600` or stricter), else the error says to
    ///   `chmod 600` it. Surrounding whitespace is trimmed.
    /// - Location: `GHL_LOCATION_ID` if set and not blank; else `[ghl] location_id`.
    ///
    /// `env` looks up an environment variable (pass `&|k| std::env::var(k).ok()`; tests pass
    /// a map). Anything missing gives [`GhlError::NotConfigured`] with a message saying how to
    /// set it.
    pub fn resolve(cfg: &GhlConfig, env: &dyn Fn(&str) -> Option<String>) -> Result<Credentials, GhlError> {
        let nonblank = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let token = match nonblank(env(ENV_API_KEY)) {
            Some(t) => t,
            None => {
                let file = cfg.token_file.trim();
                if file.is_empty() {
                    return Err(GhlError::NotConfigured(format!(
                        "no GHL token: set {ENV_API_KEY} to your Private Integration Token, or save the \
                         token in a file readable only by you (chmod 600 FILE) and set token_file under \
                         [ghl] in the config file"
                    )));
                }
                read_token_file(&expand_home(file, env))?
            }
        };
        let location_id = nonblank(env(ENV_LOCATION_ID))
            .or_else(|| Some(cfg.location_id.trim().to_owned()).filter(|s| !s.is_empty()))
            .ok_or_else(|| {
                GhlError::NotConfigured(format!(
                    "no GHL location: set {ENV_LOCATION_ID} or location_id under [ghl] in the config file \
                     to the sub-account id (Settings → Business Profile in GHL, or the id in the \
                     sub-account's URL)"
                ))
            })?;
        Ok(Credentials { token: Secret(token), location_id })
    }
}

fn expand_home(file: &str, env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(rest) = file.strip_prefix("~/")
        && let Some(home) = env("HOME").filter(|h| !h.is_empty())
    {
        return Path::new(&home).join(rest);
    }
    PathBuf::from(file)
}

fn read_token_file(path: &Path) -> Result<String, GhlError> {
    use std::os::unix::fs::PermissionsExt;
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| {
        GhlError::NotConfigured(format!(
            "cannot read the GHL token file {shown}: {e}. Check token_file under [ghl], or set {ENV_API_KEY} instead"
        ))
    })?;
    if !meta.is_file() {
        return Err(GhlError::NotConfigured(format!(
            "the GHL token file {shown} is not a regular file. Point token_file under [ghl] at the file holding the token"
        )));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(GhlError::NotConfigured(format!(
            "the GHL token file {shown} is accessible by other users (mode {mode:03o}); run `chmod 600 {shown}` and retry"
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        GhlError::NotConfigured(format!(
            "cannot read the GHL token file {shown}: {e}. Check token_file under [ghl], or set {ENV_API_KEY} instead"
        ))
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(GhlError::NotConfigured(format!(
            "the GHL token file {shown} is empty: paste the Private Integration Token into it, or set {ENV_API_KEY}"
        )));
    }
    Ok(token.to_owned())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn cfg(token_file: &str, location_id: &str) -> GhlConfig {
        GhlConfig {
            base_url: "https://services.leadconnectorhq.com".into(),
            location_id: location_id.into(),
            token_file: token_file.into(),
            timeout_secs: 30,
            rate_limit: leadline_shared::config::RateLimitModel::Bucket,
            workflows: Default::default(),
        }
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| m.get(k).cloned()
    }

    fn write_token(dir: &Path, mode: u32, text: &str) -> PathBuf {
        let p = dir.join("token");
        std::fs::write(&p, text).expect("write token");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).expect("chmod");
        p
    }

    #[test]
    fn secret_is_redacted() {
        let c = Credentials { token: Secret::new("pit-very-secret"), location_id: "loc".into() };
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("very-secret"), "{dbg}");
        assert!(dbg.contains("***") && dbg.contains("loc"), "{dbg}");
        assert_eq!(c.token.to_string(), "***");
        assert_eq!(c.token.expose(), "pit-very-secret");
    }

    #[test]
    fn env_wins_over_config() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = write_token(dir.path(), 0o600, "from-file\n");
        let env = env_of(&[(ENV_API_KEY, "from-env"), (ENV_LOCATION_ID, "env-loc")]);
        let c = Credentials::resolve(&cfg(&p.display().to_string(), "cfg-loc"), &env).expect("resolves");
        assert_eq!(c.token.expose(), "from-env");
        assert_eq!(c.location_id, "env-loc");
    }

    #[test]
    fn file_and_config_location() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = write_token(dir.path(), 0o600, "  pit-abc \n");
        let c =
            Credentials::resolve(&cfg(&p.display().to_string(), "cfg-loc"), &env_of(&[])).expect("resolves");
        assert_eq!(c.token.expose(), "pit-abc");
        assert_eq!(c.location_id, "cfg-loc");
        // 0400 is stricter than 0600 and fine.
        let p = write_token(dir.path(), 0o400, "pit-abc");
        assert!(Credentials::resolve(&cfg(&p.display().to_string(), "l"), &env_of(&[])).is_ok());
    }

    #[test]
    fn home_is_expanded() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_token(dir.path(), 0o600, "pit-home");
        let env = env_of(&[("HOME", &dir.path().display().to_string())]);
        let c = Credentials::resolve(&cfg("~/token", "l"), &env).expect("resolves");
        assert_eq!(c.token.expose(), "pit-home");
    }

    #[test]
    fn loose_permissions_are_refused_with_chmod_advice() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (i, mode) in [0o644, 0o640, 0o604, 0o660].into_iter().enumerate() {
            let sub = dir.path().join(i.to_string());
            std::fs::create_dir(&sub).expect("mkdir");
            let p = write_token(&sub, mode, "pit-abc");
            let err = Credentials::resolve(&cfg(&p.display().to_string(), "l"), &env_of(&[]))
                .expect_err("loose mode refused");
            let msg = err.to_string();
            assert!(matches!(err, GhlError::NotConfigured(_)));
            assert!(msg.contains(&format!("chmod 600 {}", p.display())), "{msg}");
            assert!(!msg.contains("pit-abc"), "{msg}");
        }
    }

    #[test]
    fn missing_pieces_say_how_to_set_them() {
        let err = Credentials::resolve(&cfg("", "l"), &env_of(&[])).expect_err("no token");
        assert!(
            matches!(&err, GhlError::NotConfigured(m) if m.contains(ENV_API_KEY) && m.contains("token_file"))
        );
        let err =
            Credentials::resolve(&cfg("", ""), &env_of(&[(ENV_API_KEY, "t")])).expect_err("no location");
        assert!(matches!(&err, GhlError::NotConfigured(m) if m.contains(ENV_LOCATION_ID)));
        let err = Credentials::resolve(&cfg("/nonexistent/leadline-token", "l"), &env_of(&[]))
            .expect_err("no file");
        assert!(err.to_string().contains("/nonexistent/leadline-token"));
        let dir = tempfile::tempdir().expect("tempdir");
        let p = write_token(dir.path(), 0o600, "  \n");
        let err = Credentials::resolve(&cfg(&p.display().to_string(), "l"), &env_of(&[])).expect_err("empty");
        assert!(err.to_string().contains("empty"));
        // A blank env var does not count as set.
        let err = Credentials::resolve(&cfg("", "l"), &env_of(&[(ENV_API_KEY, "  ")])).expect_err("blank");
        assert!(matches!(err, GhlError::NotConfigured(_)));
    }
}
