//! `eventlake validate`: reports every record of NDJSON files against the schemas.
//!
//! With `--schemas`, every record gets the verdict the hourly job gives it (the contract's one
//! accept function): envelope, event name, schema, storability and, when the arrival hour is known
//! (`--arrival-hour`, or a Firehose `YYYY/MM/DD/HH/` path), the event-time window.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};

use clap::{ArgGroup, Args, ValueEnum};
use eventlake_contract::accept::{Acceptor, Lineage, ScratchRows, Window};
use eventlake_contract::chunks::{Chunker, CutChunk};
use eventlake_contract::delimited::{CsvDialect, CsvRows, CsvScratch, header_end};
use eventlake_contract::records::{DEFAULT_MAX_RECORD_BYTES, Record, RecordFormat, RecordReader, decompressed};
use eventlake_contract::{Reason, Rejection, Schema, ValidationError};
use eventlake_lake::layout::{Hour, event_window, firehose_hour_of};
use eventlake_lake::project::{load_project, load_rules};
use eventlake_runtime::ExitCode;
use eventlake_runtime::duration::HumanDuration;
use eventlake_silver::HourlyConfig;
use serde_json::json;

use crate::schemas::{ContractOpts, load_registry};

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).multiple(true).args(["schemas", "schema", "config"])))]
pub(crate) struct ValidateArgs {
    /// Registry folder: every event is checked against the schema of its event name.
    #[arg(long, env = "EVENTLAKE_SCHEMAS")]
    schemas: Option<PathBuf>,

    /// One schema file: every line is checked against it (any JSON value).
    #[arg(long)]
    schema: Option<PathBuf>,

    /// Project file (`eventlake.toml`): check the files as bronze of `--source`, with its
    /// schemas, envelope and format (CSV included). The file itself (sources, quality rules) is
    /// checked whenever it is given.
    #[arg(long, env = "EVENTLAKE_CONFIG")]
    config: Option<PathBuf>,

    /// The project's source the files belong to.
    #[arg(long = "source", id = "source_name", requires = "config")]
    source: Option<String>,

    #[command(flatten)]
    contract: ContractOpts,

    /// `text` prints invalid records and a summary; `json` prints one object per record.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,

    /// Arrival hour of the files, for the event-time window check (default: read from a Firehose
    /// `…/YYYY/MM/DD/HH/<file>` path; without either, the window is not checked).
    #[arg(long)]
    arrival_hour: Option<Hour>,

    /// Events created longer than this before their arrival hour are rejected (as by `hourly`).
    #[arg(long, env = "EVENTLAKE_MAX_LATENESS", default_value_t = HourlyConfig::default().max_lateness.into())]
    max_lateness: HumanDuration,

    /// Events created longer than this after their arrival hour are rejected (as by `hourly`).
    #[arg(long, env = "EVENTLAKE_MAX_EARLY", default_value_t = HourlyConfig::default().max_early.into())]
    max_early: HumanDuration,

    /// NDJSON (or a CSV source's) files, plain or gzip (`-` reads standard input).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

enum Checker {
    Registry(Box<Acceptor>),
    /// A project source's rows are CSV, typed by its schemas.
    Csv(Box<Acceptor>, CsvDialect),
    Single(Box<Schema>),
}

#[derive(Default)]
struct Tally {
    records: u64,
    invalid: u64,
}

pub(crate) fn run(args: ValidateArgs) -> ExitCode {
    let checker = match load(&args) {
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

fn load(args: &ValidateArgs) -> Result<Checker, String> {
    let compile = args.contract.compile_options();
    // A project file is checked whole (its sources and quality rules) whichever source is validated.
    if let Some(config) = &args.config {
        load_project(config).map_err(|e| e.to_string())?;
        load_rules(config).map_err(|e| e.to_string())?;
    }
    if let (Some(config), Some(name)) = (&args.config, &args.source) {
        let specs = load_project(config).map_err(|e| e.to_string())?;
        let spec = specs
            .into_iter()
            .find(|s| &s.name == name)
            .ok_or_else(|| format!("--source {name:?}: no such source in {}", config.display()))?;
        let registry = load_registry(&spec.schemas, &spec.options).map_err(|e| format!("{e:#}"))?;
        let acceptor = Box::new(Acceptor::new(Arc::new(registry)));
        return Ok(match spec.format {
            RecordFormat::Json => Checker::Registry(acceptor),
            RecordFormat::Csv(dialect) => Checker::Csv(acceptor, dialect),
        });
    }
    if let Some(dir) = &args.schemas {
        let options = args.contract.registry_options().map_err(|e| format!("{e:#}"))?;
        let registry = load_registry(dir, &options).map_err(|e| format!("{e:#}"))?;
        return Ok(Checker::Registry(Box::new(Acceptor::new(Arc::new(registry)))));
    }
    if args.config.is_some() && args.schema.is_none() {
        return Err("--config needs --source (the project's source the files belong to), or --schemas".into());
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
    let arrival = args.arrival_hour.or_else(|| firehose_hour_of(&name));
    let window = arrival.map(|hour| {
        let (start, end) = event_window(hour, args.max_lateness.chrono(), args.max_early.chrono());
        Window { start, end, arrival: hour.start_micros() }
    });
    if let Checker::Csv(acceptor, dialect) = checker {
        let mut scratch = ScratchRows::default();
        let lineage = |line| Lineage { arrival: window.map_or(0, |w| w.arrival), source_key: &name, line };
        let mut bytes = Vec::new();
        let mut reader = reader;
        reader.read_to_end(&mut bytes)?;
        let end = header_end(dialect, &bytes);
        let rows = CsvRows::new(acceptor.registry(), dialect, &bytes[..end])
            .map_err(|reason| io::Error::other(format!("line 1: CSV header: {reason}")))?;
        let first_line = 1 + bytes[..end].iter().filter(|b| **b == b'\n').count() as u64;
        let mut written = Ok(());
        rows.each_record(&bytes[end..], first_line, end as u64, &mut CsvScratch::default(), |record, _, at| {
            let judged = record.and_then(|r| acceptor.accept(&r, window, lineage(at.line), &mut scratch));
            let verdict = match judged {
                Ok(accepted) => Verdict { event: Some(accepted.event.name.clone()), rejection: None },
                Err(r) => Verdict { event: r.event_name.clone(), rejection: Some(r) },
            };
            if written.is_ok() {
                written = report(args, &name, at.line, &verdict, out, total);
            }
        })
        .map_err(io::Error::other)?;
        return written;
    }
    check_records(checker, args, reader, &name, window, out, total)
}

/// Bytes per piece of a file: pieces are checked on every core and reported in file order.
const PIECE_BYTES: usize = 1 << 20;

/// One piece's report lines and counts.
#[derive(Default)]
struct PieceReport {
    text: Vec<u8>,
    tally: Tally,
}

type PieceReply = mpsc::Receiver<io::Result<PieceReport>>;

/// Checks a stream of JSON records: one thread cuts it into pieces at record boundaries, one per
/// core checks them, and this one prints their reports in file order. The output is the same as
/// one thread's, whatever the timing.
fn check_records(
    checker: &Checker,
    args: &ValidateArgs,
    reader: Box<dyn Read + Send>,
    name: &str,
    window: Option<Window>,
    out: &mut impl Write,
    total: &mut Tally,
) -> io::Result<()> {
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let (work_tx, work_rx) = mpsc::sync_channel::<(CutChunk, mpsc::SyncSender<io::Result<PieceReport>>)>(workers);
    // Shared by the workers alone: once every worker has ended, even by a panic, the cutter's sends
    // fail and it stops instead of waiting on a full queue.
    let work_rx = Arc::new(Mutex::new(work_rx));
    // Bounds the pieces cut ahead of the printer, and so the memory held.
    let (order_tx, order_rx) = mpsc::sync_channel::<PieceReply>(workers * 2);
    std::thread::scope(|s| {
        let cutter = s.spawn(move || -> io::Result<()> {
            let mut chunker = Chunker::new(reader, PIECE_BYTES, DEFAULT_MAX_RECORD_BYTES);
            loop {
                let piece = chunker
                    .next_chunk()
                    .map_err(|e| io::Error::new(e.kind(), format!("line {}: {e}", chunker.line())))?;
                let Some(piece) = piece else { return Ok(()) };
                let (reply_tx, reply_rx) = mpsc::sync_channel(1);
                // A closed channel: the printer stopped on an error, which it reports.
                if order_tx.send(reply_rx).is_err() || work_tx.send((piece, reply_tx)).is_err() {
                    return Ok(());
                }
            }
        });
        for _ in 0..workers {
            let work_rx = Arc::clone(&work_rx);
            s.spawn(move || {
                let mut scratch = ScratchRows::default();
                loop {
                    let next = match work_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok((piece, reply)) = next else { return };
                    // Each reply channel has room for its one message.
                    let _ = reply.send(check_piece(checker, args, name, window, piece, &mut scratch));
                }
            });
        }
        drop(work_rx);
        let printed = print_in_order(order_rx, out, total);
        let cut = cutter.join().unwrap_or_else(|_| Err(io::Error::other("the file reader stopped")));
        printed.and(cut)
    })
}

/// Prints the pieces' reports as they come in, in file order; returns at the first failure,
/// dropping `replies` so that the cutter stops.
fn print_in_order(replies: mpsc::Receiver<PieceReply>, out: &mut impl Write, total: &mut Tally) -> io::Result<()> {
    for reply in replies {
        let piece = reply.recv().map_err(|_| io::Error::other("a checking thread stopped"))??;
        out.write_all(&piece.text)?;
        total.records += piece.tally.records;
        total.invalid += piece.tally.invalid;
    }
    Ok(())
}

fn check_piece(
    checker: &Checker,
    args: &ValidateArgs,
    name: &str,
    window: Option<Window>,
    piece: CutChunk,
    scratch: &mut ScratchRows,
) -> io::Result<PieceReport> {
    let mut report_out = PieceReport::default();
    let mut records =
        RecordReader::for_chunk(piece.bytes, piece.first_line, piece.base_offset, piece.stream_start, piece.in_array);
    let named = args.format == Format::Json;
    while let Some(record) = records.next_record()? {
        let line = record.position().line;
        let verdict = match checker {
            Checker::Registry(acceptor) | Checker::Csv(acceptor, _) => {
                let lineage = Lineage { arrival: window.map_or(0, |w| w.arrival), source_key: name, line };
                match acceptor.accept(&record, window, lineage, scratch) {
                    // Only a JSON report names the event of a valid record.
                    Ok(accepted) => Verdict { event: named.then(|| accepted.event.name.clone()), rejection: None },
                    Err(r) => Verdict { event: r.event_name.clone(), rejection: Some(r) },
                }
            }
            Checker::Single(schema) => match &record {
                Record::Malformed { error, .. } => Verdict {
                    event: None,
                    rejection: Some(Rejection {
                        reason: Reason::MalformedJson,
                        detail: error.to_string(),
                        pointer: String::new(),
                        errors: Vec::new(),
                        event_name: None,
                    }),
                },
                Record::Parsed { value, .. } => {
                    let errors = schema.validate(*value);
                    let rejection = (!errors.is_empty()).then(|| Rejection {
                        reason: Reason::SchemaViolation,
                        detail: String::new(),
                        pointer: errors.first().map(|e| e.pointer.clone()).unwrap_or_default(),
                        errors,
                        event_name: None,
                    });
                    Verdict { event: None, rejection }
                }
            },
        };
        report(args, name, line, &verdict, &mut report_out.text, &mut report_out.tally)?;
    }
    Ok(report_out)
}

/// Counts one verdict and prints it as `--format` says.
fn report(
    args: &ValidateArgs,
    name: &str,
    line: u64,
    verdict: &Verdict,
    out: &mut impl Write,
    total: &mut Tally,
) -> io::Result<()> {
    total.records += 1;
    let valid = verdict.rejection.is_none();
    if !valid {
        total.invalid += 1;
    }
    let errors = verdict.rejection.as_ref().map(problems).unwrap_or_default();
    match args.format {
        Format::Json => {
            let mut obj = json!({"file": name, "line": line, "valid": valid, "errors": errors});
            if let Some(r) = &verdict.rejection {
                obj["reason"] = json!(r.reason.code());
                obj["pointer"] = json!(r.pointer);
            }
            if let Some(e) = &verdict.event {
                obj["event_name"] = json!(e);
            }
            writeln!(out, "{obj}")?;
        }
        Format::Text => {
            if let Some(r) = &verdict.rejection {
                let label = verdict.event.as_ref().map(|e| format!(" {e}")).unwrap_or_default();
                if r.errors.is_empty() {
                    writeln!(out, "{name}:{line}:{label} {}: {}", r.reason, r.detail)?;
                } else {
                    for e in &r.errors {
                        writeln!(out, "{name}:{line}:{label} {e}")?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// The verdict on one record.
struct Verdict {
    event: Option<String>,
    rejection: Option<Rejection>,
}

/// The `errors` of a JSON report line: the schema's errors, or one record-level problem labelled
/// by what failed (`json`, `csv`, `envelope`, `event_name`, `window`, `schema_violation`).
fn problems(r: &Rejection) -> Vec<ValidationError> {
    if !r.errors.is_empty() {
        return r.errors.clone();
    }
    let keyword = match r.reason {
        Reason::MalformedJson => "json",
        Reason::MalformedCsv => "csv",
        Reason::BadEnvelope => "envelope",
        Reason::UnknownEventName => "event_name",
        Reason::OutOfWindow => "window",
        // A duplicate key or a value its column cannot hold; the pointer is in the report line.
        Reason::SchemaViolation => "schema_violation",
    };
    vec![ValidationError { pointer: String::new(), keyword, message: r.detail.clone() }]
}
