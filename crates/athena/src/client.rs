//! Running DDL on Athena: StartQueryExecution, then GetQueryExecution with capped backoff until
//! the statement succeeds, fails or times out.

use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_athena::Client;
use aws_sdk_athena::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState, ResultConfiguration};

use crate::error::{Error, Result};

/// Where and how statements run.
#[derive(Debug, Clone)]
pub struct AthenaOptions {
    pub database: String,
    pub workgroup: Option<String>,
    pub output_location: Option<String>,
    /// Longest wait for one statement.
    pub timeout: Duration,
    /// Longest pause between two polls.
    pub max_poll_interval: Duration,
}

/// Runs statements on Athena.
pub struct Athena {
    client: Client,
    options: AthenaOptions,
}

fn request_error<E: ProvideErrorMetadata + std::error::Error + 'static>(
    operation: &'static str,
    err: SdkError<E>,
) -> Error {
    let message = match &err {
        SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) => {
            let text = format!("{}", DisplayErrorContext(&err));
            if text.to_lowercase().contains("credential") {
                format!(
                    "no AWS credentials: run with a task role, AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY ({text})"
                )
            } else {
                text
            }
        }
        _ => match (err.code(), err.message()) {
            (Some(code), Some(msg)) => format!("{code}: {msg}"),
            _ => format!("{}", DisplayErrorContext(&err)),
        },
    };
    Error::Request { operation, message }
}

impl Athena {
    /// A client from the environment (`AWS_REGION`, credentials chain, `AWS_ENDPOINT_URL_ATHENA`).
    /// Throttled requests are retried with backoff by the SDK.
    pub async fn from_env(options: AthenaOptions) -> Athena {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(8))
            .load()
            .await;
        Athena { client: Client::new(&config), options }
    }

    /// Fails early when Athena would have nowhere to write results.
    pub async fn check_output_location(&self) -> Result<()> {
        if self.options.output_location.is_some() {
            return Ok(());
        }
        let workgroup = self.options.workgroup.clone().unwrap_or_else(|| "primary".into());
        let wg = self
            .client
            .get_work_group()
            .work_group(&workgroup)
            .send()
            .await
            .map_err(|e| request_error("GetWorkGroup", e))?;
        let configured = wg
            .work_group()
            .and_then(|w| w.configuration())
            .and_then(|c| c.result_configuration())
            .and_then(|r| r.output_location())
            .is_some();
        if configured { Ok(()) } else { Err(Error::NoOutputLocation { workgroup }) }
    }

    /// Runs one statement to completion; returns its query id.
    pub async fn execute(&self, statement: &str) -> Result<String> {
        let mut request = self.client.start_query_execution().query_string(statement);
        // CREATE DATABASE runs before the database exists.
        if !statement.starts_with("CREATE DATABASE") {
            request = request
                .query_execution_context(QueryExecutionContext::builder().database(&self.options.database).build());
        }
        if let Some(wg) = &self.options.workgroup {
            request = request.work_group(wg);
        }
        if let Some(loc) = &self.options.output_location {
            request = request.result_configuration(ResultConfiguration::builder().output_location(loc).build());
        }
        let started = request.send().await.map_err(|e| request_error("StartQueryExecution", e))?;
        let id = started
            .query_execution_id()
            .ok_or(Error::Request { operation: "StartQueryExecution", message: "no query execution id".into() })?
            .to_owned();
        let clock = Instant::now();
        let mut pause = Duration::from_millis(100);
        loop {
            let got = self
                .client
                .get_query_execution()
                .query_execution_id(&id)
                .send()
                .await
                .map_err(|e| request_error("GetQueryExecution", e))?;
            let status = got.query_execution().and_then(|q| q.status());
            let state = status.and_then(|s| s.state()).cloned();
            match state {
                Some(QueryExecutionState::Succeeded) => {
                    tracing::info!(query_id = %id, seconds = clock.elapsed().as_secs_f64(), "statement succeeded");
                    return Ok(id);
                }
                Some(s @ (QueryExecutionState::Failed | QueryExecutionState::Cancelled)) => {
                    let reason = status
                        .and_then(|s| s.state_change_reason().map(str::to_owned))
                        .or_else(|| {
                            status.and_then(|s| s.athena_error()).and_then(|e| e.error_message().map(str::to_owned))
                        })
                        .unwrap_or_else(|| "no reason given".into());
                    return Err(Error::QueryFailed {
                        query_id: id,
                        state: s.as_str().to_lowercase(),
                        reason,
                        statement: statement.into(),
                    });
                }
                other => {
                    if clock.elapsed() >= self.options.timeout {
                        return Err(Error::Timeout {
                            query_id: id,
                            seconds: self.options.timeout.as_secs(),
                            state: other.map_or_else(|| "unknown".into(), |s| s.as_str().to_owned()),
                        });
                    }
                    tracing::debug!(query_id = %id, state = ?other, "waiting");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(self.options.max_poll_interval);
                }
            }
        }
    }
}
