//! Secrets stay secret: a day run end to end on S3 with distinctive credentials (AWS secret key and
//! session token, a PostgreSQL password in the URL, a MariaDB password in `MYSQL_PWD` that the
//! server refuses) — and every line any run printed, and every object in the lake, is searched for
//! them.

use std::process::Command;

use crate::daily::{DAY, DAY_HOURS, put_daily_fixture};
use crate::support::{Backend, Run, TestLake, eventlake, run};

const AWS_SECRET: &str = "el-test-aws-secret-5b1f0c";
const AWS_TOKEN: &str = "el-test-session-token-77ad2e";
const PG_PASSWORD: &str = "el-test-pg-password-c4e9";
const MYSQL_PASSWORD: &str = "el-test-mysql-password-0a3d";

#[test]
fn no_output_and_no_object_holds_a_secret() {
    let Some(lake) = TestLake::create(Backend::S3, "secrets") else { return };
    put_daily_fixture(&lake, "dedup");
    let with_secrets = |mut cmd: Command| -> Run {
        cmd.env("AWS_SECRET_ACCESS_KEY", AWS_SECRET).env("AWS_SESSION_TOKEN", AWS_TOKEN);
        run(cmd)
    };
    let (from, to) = DAY_HOURS;
    let mut runs = vec![with_secrets(lake.hourly_command(&["--from", from, "--to", to]))];
    let mut daily = eventlake();
    daily.args(["daily", "--lake", &lake.url(), "--schemas"]).arg(&lake.schemas).args(["--date", DAY, "--report"]);
    runs.push(with_secrets(daily));
    let mut report = eventlake();
    report.args(["report", "--lake", &lake.url(), "--date", DAY]);
    runs.push(with_secrets(report));
    for r in &runs {
        r.assert_exit(0);
    }

    if let (Ok(pg), Ok(my)) = (std::env::var("EVENTLAKE_TEST_POSTGRES_URL"), std::env::var("EVENTLAKE_TEST_MYSQL_URL"))
    {
        // The test server trusts local connections, so the password is sent and ignored.
        let pg = pg.replacen("postgresql://eventlake@", &format!("postgresql://eventlake:{PG_PASSWORD}@"), 1);
        let export = |to: &str| {
            let mut cmd = eventlake();
            cmd.args(["export", "--lake", &lake.url(), "--schemas"]).arg(&lake.schemas);
            cmd.args(["--to", to, "--table", "gold_lesson", "--date", DAY]);
            cmd.env("MYSQL_PWD", MYSQL_PASSWORD);
            with_secrets(cmd)
        };
        let loaded = export(&pg);
        loaded.assert_exit(0);
        let refused = export(&my);
        assert_ne!(refused.status.code(), Some(0), "the MariaDB root has no password: this one is refused\n{refused}");
        assert!(refused.stderr.contains("error"), "{refused}");
        runs.extend([loaded, refused]);
    }

    let secrets = [AWS_SECRET, AWS_TOKEN, PG_PASSWORD, MYSQL_PASSWORD];
    for r in &runs {
        for s in secrets {
            assert!(!r.stdout.contains(s) && !r.stderr.contains(s), "a run printed a secret\n{r}");
        }
    }
    let keys = lake.keys("");
    assert!(
        keys.iter().any(|k| k.starts_with("_manifests/exports/"))
            || std::env::var("EVENTLAKE_TEST_POSTGRES_URL").is_err()
    );
    for key in keys {
        let bytes = lake.get(&key).unwrap();
        for s in secrets {
            assert!(!contains(&bytes, s.as_bytes()), "{key} holds a secret");
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
