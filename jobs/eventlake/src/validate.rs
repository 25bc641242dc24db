//! `eventlake validate`: reports every record of NDJSON files against the schemas.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::{ArgGroup, Args, ValueEnum};
use eventlake_contract::records::{Record, RecordReader, decompressed};
use eventlake_contract::{CompileOptions, Envelope, Registry, RegistryOptions, Schema, ValidationError};
use eventlake_runtime::ExitCode;
use serde_json::json;

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["schemas", "schema"])))]
pub(crate) struct ValidateArgs {
    /// Registry folder: every event is checked against the schema of its event name.
    #[arg(long, env = "EVENTLAKE_SCHEMAS")]
    schemas: Option<PathBuf>,

    /// One schema file: every line is checked against it (any JSON value).
    #[arg(long)]
    schema: Option<PathBuf>,

    /// Follow the JSON Schema default (undeclared fields allowed) instead of closed objects.
    #[arg(long, env = "EVENTLAKE_ALLOW_UNDECLARED_FIELDS")]
    allow_undeclared_fields: bool,

    /// `text` prints invalid records and a summary; `json` prints one object per record.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,

    /// Envelope field holding the event name.
    #[arg(long, env = "EVENTLAKE_EVENT_NAME_FIELD", default_value = "event_name")]
    event_name_field: String,

    /// Envelope field holding the event id.
    #[arg(long, env = "EVENTLAKE_EVENT_ID_FIELD", default_value = "event_uuid")]
    event_id_field: String,

    /// Envelope field holding the creation time (Unix seconds).
    #[arg(long, env = "EVENTLAKE_CREATED_AT_FIELD", default_value = "created_at")]
    created_at_field: String,

    /// NDJSON files, plain or gzip (`-` reads standard input).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

enum Checker {
    Registry(Registry),
    Single(Box<Schema>),
}

#[derive(Default)]
struct Tally {
    records: u64,
    invalid: u64,
}

pub(crate) fn run(args: ValidateArgs) -> ExitCode {
    let compile = CompileOptions { allow_undeclared_fields: args.allow_undeclared_fields };
    let checker = match load(&args, compile) {
        Ok(c) => c,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::Usage;
        }
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut total = Tally::default();
    let mut failed_files = 0;
    for file in &args.files {
        match check_file(&checker, &args, file, &mut out, &mut total) {
            Ok(()) => {}
            Err(e) => {
                failed_files += 1;
                let _ = out.flush();
                eprintln!("error: {}: {e}", file.display());
            }
        }
    }
    if args.format == Format::Text {
        let valid = total.records - total.invalid;
        let _ = writeln!(
            out,
            "{} record{} checked: {valid} valid, {} invalid{}",
            total.records,
            if total.records == 1 { "" } else { "s" },
            total.invalid,
            if failed_files > 0 { format!(", {failed_files} file(s) unreadable") } else { String::new() }
        );
    }
    let _ = out.flush();
    if failed_files > 0 {
        ExitCode::Usage
    } else if total.invalid > 0 {
        ExitCode::Failure
    } else {
        ExitCode::Success
    }
}

fn load(args: &ValidateArgs, compile: CompileOptions) -> Result<Checker, String> {
    if let Some(dir) = &args.schemas {
        let options = RegistryOptions {
            compile,
            envelope: Envelope {
                id: args.event_id_field.clone(),
                name: args.event_name_field.clone(),
                created_at: args.created_at_field.clone(),
            },
        };
        return Registry::load_dir(dir, &options).map(Checker::Registry).map_err(|e| e.to_string());
    }
    let path = args.schema.as_deref().ok_or("one of --schemas or --schema is required")?;
    let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let doc: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: not valid JSON: {e}", path.display()))?;
    Schema::compile(&doc, &path.display().to_string(), &compile)
        .map(|s| Checker::Single(Box::new(s)))
        .map_err(|e| e.to_string())
}

fn check_file(
    checker: &Checker,
    args: &ValidateArgs,
    file: &Path,
    out: &mut impl Write,
    total: &mut Tally,
) -> io::Result<()> {
    let reader: Box<dyn io::Read + Send> = if file == Path::new("-") {
        decompressed(BufReader::new(io::stdin()))?
    } else {
        decompressed(BufReader::new(File::open(file)?))?
    };
    let name = file.display().to_string();
    let mut records = RecordReader::new(reader);
    while let Some(record) = records.next_record()? {
        let line = record.position().line;
        let (event, errors) = match &record {
            Record::Malformed { error, .. } => (None, vec![problem("json", format!("malformed JSON: {error}"))]),
            Record::Parsed { value, .. } => match checker {
                Checker::Single(schema) => (None, schema.validate(*value)),
                Checker::Registry(registry) => {
                    let field = &registry.options().envelope.name;
                    match value.get(field).and_then(|v| v.as_str()) {
                        None => (
                            None,
                            vec![problem(
                                "envelope",
                                format!("/{field} is missing or not a string, so the event has no schema"),
                            )],
                        ),
                        Some(event_name) => match registry.event(event_name) {
                            None => (
                                Some(event_name.to_owned()),
                                vec![problem("event_name", format!("unknown event name {event_name:?}"))],
                            ),
                            Some(event) => (Some(event_name.to_owned()), event.schema.validate(*value)),
                        },
                    }
                }
            },
        };
        total.records += 1;
        let valid = errors.is_empty();
        if !valid {
            total.invalid += 1;
        }
        match args.format {
            Format::Json => {
                let mut obj = json!({"file": name, "line": line, "valid": valid, "errors": errors});
                if let Some(e) = event {
                    obj["event_name"] = json!(e);
                }
                writeln!(out, "{obj}")?;
            }
            Format::Text if !valid => {
                let label = event.map(|e| format!(" {e}")).unwrap_or_default();
                for e in &errors {
                    if e.keyword == "json" || e.keyword == "envelope" || e.keyword == "event_name" {
                        writeln!(out, "{name}:{line}:{label} {}", e.message)?;
                    } else {
                        writeln!(out, "{name}:{line}:{label} {e}")?;
                    }
                }
            }
            Format::Text => {}
        }
    }
    Ok(())
}

/// A record-level problem that is not a schema keyword failure.
fn problem(keyword: &'static str, message: String) -> ValidationError {
    ValidationError { pointer: String::new(), keyword, message }
}
