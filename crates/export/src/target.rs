//! Export targets: a database URL, its dialect, and the same URL without its password.

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// The SQL dialect of a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    MySql,
}

/// The environment variable a deployment puts the target's password in (from Secrets Manager).
pub const PASSWORD_VARIABLE: &str = "EVENTLAKE_EXPORT_PASSWORD";

/// A database to load into: `postgresql://user@host:port/db` or `mysql://user@host:port/db`. A
/// password may be in the URL or given apart ([`Target::with_password`]: the binary reads
/// `EVENTLAKE_EXPORT_PASSWORD`, `PGPASSWORD`, `MYSQL_PWD`); it is never printed.
#[derive(Clone)]
pub struct Target {
    pub dialect: Dialect,
    url: url::Url,
    /// The password when the URL has none.
    password: Option<String>,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Target({})", self)
    }
}

impl fmt::Display for Target {
    /// The URL without its password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.url.clone();
        if shown.password().is_some() {
            let _ = shown.set_password(Some("***"));
        }
        f.write_str(shown.as_str())
    }
}

impl FromStr for Target {
    type Err = Error;

    fn from_str(s: &str) -> Result<Target, Error> {
        let bad = |reason: &str| Error::Target { target: redact(s), reason: reason.into() };
        let url = url::Url::parse(s).map_err(|e| bad(&e.to_string()))?;
        let dialect = match url.scheme() {
            "postgresql" | "postgres" => Dialect::Postgres,
            "mysql" | "mariadb" => Dialect::MySql,
            _ => return Err(bad("expected postgresql://… or mysql://…")),
        };
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad("no host"));
        }
        if url.path().trim_matches('/').is_empty() {
            return Err(bad("no database name (…/dbname)"));
        }
        Ok(Target { dialect, url, password: None })
    }
}

/// `s` with anything between `://user:` and `@` hidden (for URLs too broken to parse).
fn redact(s: &str) -> String {
    match (s.find("://"), s.rfind('@')) {
        (Some(a), Some(b)) if b > a => match s[a + 3..b].find(':') {
            Some(c) => format!("{}:***{}", &s[..a + 3 + c], &s[b..]),
            None => s.to_owned(),
        },
        _ => s.to_owned(),
    }
}

impl Target {
    pub fn host(&self) -> &str {
        self.url.host_str().unwrap_or_default()
    }

    pub fn port(&self) -> Option<u16> {
        self.url.port()
    }

    pub fn user(&self) -> &str {
        self.url.username()
    }

    pub fn database(&self) -> &str {
        self.url.path().trim_matches('/')
    }

    /// The environment variables that may hold the password, in the order they are consulted:
    /// the deployment's secret, then the client's own.
    pub fn password_variables(&self) -> [&'static str; 2] {
        match self.dialect {
            Dialect::Postgres => [PASSWORD_VARIABLE, "PGPASSWORD"],
            Dialect::MySql => [PASSWORD_VARIABLE, "MYSQL_PWD"],
        }
    }

    /// The password to use when the URL has none.
    pub fn with_password(mut self, password: Option<String>) -> Target {
        self.password = password.filter(|p| !p.is_empty());
        self
    }

    /// The URL's password, else the one given apart.
    pub fn password(&self) -> Option<String> {
        self.url.password().map(percent_decode).or_else(|| self.password.clone())
    }

    /// A name for this target in the lake's export manifests: dialect, host, port, database.
    pub fn key(&self) -> String {
        let dialect = match self.dialect {
            Dialect::Postgres => "postgresql",
            Dialect::MySql => "mysql",
        };
        let port = self.port().map(|p| format!("-{p}")).unwrap_or_default();
        let raw = format!("{dialect}-{}{port}-{}", self.host(), self.database());
        raw.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect()
    }

    pub(crate) fn error(&self, reason: impl Into<String>) -> Error {
        Error::Target { target: self.to_string(), reason: reason.into() }
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("p={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_never_show_passwords() {
        let t: Target = "postgresql://etl:s3cret@127.0.0.1:5432/analytics".parse().unwrap();
        assert_eq!(
            (t.dialect, t.host(), t.port(), t.database()),
            (Dialect::Postgres, "127.0.0.1", Some(5432), "analytics")
        );
        assert_eq!(t.password().as_deref(), Some("s3cret"));
        let given: Target = "postgresql://etl@h/db".parse().unwrap();
        assert_eq!(given.password_variables(), ["EVENTLAKE_EXPORT_PASSWORD", "PGPASSWORD"]);
        let given = given.with_password(Some("pw".into()));
        assert_eq!((given.password().as_deref(), given.to_string().as_str()), (Some("pw"), "postgresql://etl@h/db"));
        assert_eq!(t.to_string(), "postgresql://etl:***@127.0.0.1:5432/analytics");
        assert_eq!(format!("{t:?}"), "Target(postgresql://etl:***@127.0.0.1:5432/analytics)");
        assert_eq!(t.key(), "postgresql-127.0.0.1-5432-analytics");
        let m: Target = "mysql://root@db.internal/paidy".parse().unwrap();
        assert_eq!((m.dialect, m.user()), (Dialect::MySql, "root"));
        for bad in ["ftp://x/y", "postgresql://host", "mysql:///db"] {
            assert!(bad.parse::<Target>().is_err(), "{bad}");
        }
        let err = "oracle://u:pw@h/db".parse::<Target>().unwrap_err().to_string();
        assert!(!err.contains("pw@"), "{err}");
    }
}
