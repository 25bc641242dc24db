//! What every scenario needs: a [`TestLake`] on either backend with fixtures in it, the
//! `eventlake` command with a clean environment, and readers that turn what a run wrote (Parquet,
//! quarantine lines, manifests) into canonical text.
//!
//! Expected paths are spelled out here from the documented layout rather than taken from the
//! product's own layout code, so a layout regression shows up as a failure.

use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output};
use std::sync::{Arc, Once};

use arrow::datatypes::{DataType, FieldRef, Schema};
use arrow::json::LineDelimitedWriter;
use arrow::json::writer::WriterBuilder;
use arrow_array::{ArrayRef, RecordBatch};
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::metadata::ParquetMetaData;
use serde_json::{Map, Value};
use tempfile::TempDir;

use crate::golden::assert_golden;
use crate::storage::{LocalDir, S3Bucket, Storage};

/// The test fixtures folder (`tests/fixtures`).
pub(crate) fn fixtures_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures"))
}

/// The bytes of a bronze fixture file, `tests/fixtures/bronze/<case>/<rel>`.
pub(crate) fn bronze_fixture(case: &str, rel: &str) -> Vec<u8> {
    let path = fixtures_dir().join("bronze").join(case).join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Gunzips `bytes` when they start with the gzip magic number, like the product does.
pub(crate) fn decompressed(bytes: Vec<u8>) -> Vec<u8> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return bytes;
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_end(&mut out).unwrap();
    out
}

/// `_manifests/hourly/dt=YYYY-MM-DD/hour=HH.json` for an hour written `YYYY-MM-DDTHH`.
pub(crate) fn manifest_key(hour: &str) -> String {
    format!("_manifests/hourly/dt={}/hour={}.json", &hour[..10], &hour[11..13])
}

/// `_locks/hourly/YYYY-MM-DDTHH.lock`.
pub(crate) fn lease_key(hour: &str) -> String {
    format!("_locks/hourly/{hour}.lock")
}

/// Which storage a scenario runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Local,
    S3,
}

fn s3_enabled() -> bool {
    std::env::var_os("EVENTLAKE_TEST_S3").is_some_and(|v| !v.is_empty())
}

/// Says once, past the test harness's output capture, that the S3 variants did not run.
fn note_s3_skipped() {
    static NOTE: Once = Once::new();
    NOTE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "note: skipped S3 variant: EVENTLAKE_TEST_S3 is unset; run tests/run (it starts a local S3 server)"
        );
    });
}

/// A lake for one scenario: its storage, a scratch folder and a copy of the fixture schemas.
pub(crate) struct TestLake {
    pub(crate) backend: Backend,
    name: String,
    storage: Box<dyn Storage>,
    /// Schemas the runs use: a copy of `tests/fixtures/schemas` that a scenario may edit.
    pub(crate) schemas: PathBuf,
    /// Removed on drop, with the local lake in it.
    _scratch: TempDir,
}

impl TestLake {
    /// A new, empty lake; `None` (after a note) for S3 when the local S3 server is not set up.
    pub(crate) fn create(backend: Backend, name: &str) -> Option<TestLake> {
        if backend == Backend::S3 && !s3_enabled() {
            note_s3_skipped();
            return None;
        }
        let scratch = tempfile::Builder::new().prefix(&format!("eventlake-e2e-{name}-")).tempdir().unwrap();
        let storage: Box<dyn Storage> = match backend {
            Backend::Local => Box::new(LocalDir::new(scratch.path().join("lake"))),
            Backend::S3 => Box::new(S3Bucket::create(name)),
        };
        let schemas = scratch.path().join("schemas");
        std::fs::create_dir_all(&schemas).unwrap();
        for entry in std::fs::read_dir(fixtures_dir().join("schemas")).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, schemas.join(path.file_name().unwrap())).unwrap();
        }
        Some(TestLake { backend, name: name.into(), storage, schemas, _scratch: scratch })
    }

    /// Another empty lake on the same backend, e.g. for a clean run to compare with.
    pub(crate) fn fresh(&self, suffix: &str) -> TestLake {
        TestLake::create(self.backend, &format!("{}-{suffix}", self.name)).unwrap()
    }

    pub(crate) fn url(&self) -> String {
        self.storage.url()
    }

    /// Uploads `tests/fixtures/bronze/<case>/**` to `bronze/**`, byte for byte.
    pub(crate) fn put_bronze(&self, case: &str) {
        let root = fixtures_dir().join("bronze").join(case);
        let mut files = Vec::new();
        collect_files(&root, &mut files);
        assert!(!files.is_empty(), "no fixture files under {}", root.display());
        for path in files {
            let rel = path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
            self.storage.put(&format!("bronze/{rel}"), &std::fs::read(&path).unwrap());
        }
    }

    pub(crate) fn put(&self, key: &str, bytes: &[u8]) {
        self.storage.put(key, bytes);
    }

    pub(crate) fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.storage.get(key)
    }

    pub(crate) fn delete(&self, key: &str) {
        self.storage.delete(key);
    }

    /// Keys under `prefix`, sorted.
    pub(crate) fn keys(&self, prefix: &str) -> Vec<String> {
        self.storage.list(prefix)
    }

    /// Every key a run may have written: everything but bronze.
    pub(crate) fn written_keys(&self) -> Vec<String> {
        self.keys("").into_iter().filter(|k| !k.starts_with("bronze/")).collect()
    }

    /// `eventlake hourly --lake <this lake> --schemas <its schemas> <args>`, not yet run.
    pub(crate) fn hourly_command(&self, args: &[&str]) -> Command {
        let mut cmd = eventlake();
        cmd.arg("hourly").arg("--lake").arg(self.url()).arg("--schemas").arg(&self.schemas).args(args);
        cmd
    }

    /// Runs `eventlake hourly` on this lake and waits for it.
    pub(crate) fn hourly(&self, args: &[&str]) -> Run {
        run(self.hourly_command(args))
    }

    /// The manifest of an arrival hour (`YYYY-MM-DDTHH`), if the hour committed.
    pub(crate) fn manifest(&self, hour: &str) -> Option<Value> {
        self.get(&manifest_key(hour)).map(|b| serde_json::from_slice(&b).expect("manifest is JSON"))
    }

    /// Every silver Parquet file: key, metadata and rows.
    pub(crate) fn silver_files(&self) -> Vec<ParquetFile> {
        self.keys("silver/").into_iter().map(|key| ParquetFile::read(&key, self.get(&key).unwrap())).collect()
    }

    /// Every quarantine line with the key of its file.
    pub(crate) fn quarantine(&self) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        for key in self.keys("quarantine/") {
            let text = String::from_utf8(self.get(&key).unwrap()).expect("quarantine files are UTF-8");
            assert!(text.is_empty() || text.ends_with('\n'), "{key}: the last line has no newline");
            for line in text.lines() {
                let value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{key}: not JSON lines: {e}"));
                out.push((key.clone(), value));
            }
        }
        out
    }

    /// Everything the runs wrote, rendered canonically (see [`Snapshot`]).
    pub(crate) fn snapshot(&self) -> Snapshot {
        let mut silver = String::new();
        for file in self.silver_files() {
            for row in file.rows() {
                silver.push_str(&tagged(&file.key, row).to_string());
                silver.push('\n');
            }
        }
        let mut quarantine = String::new();
        for (key, line) in self.quarantine() {
            let Value::Object(line) = line else { panic!("{key}: a quarantine line is not an object") };
            quarantine.push_str(&tagged(&key, line).to_string());
            quarantine.push('\n');
        }
        Snapshot {
            keys: self.written_keys().iter().map(|k| format!("{k}\n")).collect(),
            silver,
            quarantine,
            manifests: self.manifests_text(),
        }
    }

    /// Every manifest, normalized, as pretty JSON.
    pub(crate) fn manifests_text(&self) -> String {
        let mut manifests = Vec::new();
        for key in self.keys("_manifests/") {
            let manifest: Value = serde_json::from_slice(&self.get(&key).unwrap()).unwrap();
            manifests.push(serde_json::json!({ "file": key, "manifest": normalized_manifest(manifest) }));
        }
        serde_json::to_string_pretty(&manifests).unwrap() + "\n"
    }

    /// Compares the lake with the golden files `tests/golden/silver/<case>.*`.
    #[track_caller]
    pub(crate) fn assert_golden(&self, case: &str) {
        let snap = self.snapshot();
        assert_golden(&format!("silver/{case}.keys.txt"), &snap.keys);
        assert_golden(&format!("silver/{case}.jsonl"), &snap.silver);
        assert_golden(&format!("silver/{case}.quarantine.jsonl"), &snap.quarantine);
        assert_golden(&format!("silver/{case}.manifests.json"), &without_parquet_sizes(&snap.manifests));
    }
}

/// Manifests without the sizes of Parquet outputs: they change with every encoder setting, while the
/// rows (in `<case>.jsonl`) are what the golden files pin down.
fn without_parquet_sizes(manifests: &str) -> String {
    let mut manifests: Value = serde_json::from_str(manifests).unwrap();
    for m in manifests.as_array_mut().unwrap() {
        for output in m["manifest"]["outputs"].as_array_mut().unwrap() {
            if output["kind"] == "silver" {
                let bytes = output.as_object_mut().unwrap().shift_remove("bytes");
                assert!(bytes.and_then(|b| b.as_u64()).is_some_and(|b| b > 0), "{output}");
            }
        }
    }
    serde_json::to_string_pretty(&manifests).unwrap() + "\n"
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
    out.sort();
}

/// `{"file": key, ...fields}`: a row or line with the file it came from.
fn tagged(key: &str, fields: Map<String, Value>) -> Value {
    let mut out = Map::new();
    out.insert("file".into(), key.into());
    out.extend(fields);
    Value::Object(out)
}

/// A manifest without what differs between two equivalent runs: run id, timings, version,
/// fingerprints and input ETags (a local file's ETag includes its inode and mtime).
fn normalized_manifest(mut m: Value) -> Value {
    let obj = m.as_object_mut().expect("a manifest is an object");
    for field in ["run_id", "timings", "version"] {
        assert!(obj.shift_remove(field).is_some(), "manifest has no {field}");
    }
    for field in ["schema_fingerprint", "settings_fingerprint"] {
        let fp = obj.shift_remove(field).unwrap_or_else(|| panic!("manifest has no {field}"));
        assert!(fp.as_str().is_some_and(|s| s.starts_with("sha256:")), "{field}: {fp}");
    }
    for input in obj["inputs"].as_array_mut().expect("manifest inputs") {
        input.as_object_mut().unwrap().shift_remove("etag");
    }
    m
}

/// Canonical text of a lake's outputs: one section per kind, compared as text so a mismatch shows
/// as a readable diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot {
    /// Every key except bronze, one per line.
    pub(crate) keys: String,
    /// Every silver row as JSON, tagged with its file, files in key order, rows in file order.
    pub(crate) silver: String,
    /// Every quarantine line, tagged with its file.
    pub(crate) quarantine: String,
    /// Every manifest, normalized.
    pub(crate) manifests: String,
}

impl fmt::Display for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "## keys\n{}## silver\n{}## quarantine\n{}## manifests\n{}",
            self.keys, self.silver, self.quarantine, self.manifests
        )
    }
}

/// One Parquet file read back.
pub(crate) struct ParquetFile {
    pub(crate) key: String,
    pub(crate) metadata: Arc<ParquetMetaData>,
    pub(crate) batches: Vec<RecordBatch>,
}

impl ParquetFile {
    pub(crate) fn read(key: &str, bytes: Vec<u8>) -> ParquetFile {
        let builder = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(bytes))
            .unwrap_or_else(|e| panic!("{key}: not a Parquet file: {e}"));
        let metadata = builder.metadata().clone();
        let batches = builder.build().unwrap().collect::<Result<Vec<_>, _>>().unwrap();
        ParquetFile { key: key.into(), metadata, batches }
    }

    pub(crate) fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// The rows as JSON objects (Arrow's JSON writer, nulls spelled out), in file order.
    pub(crate) fn rows(&self) -> Vec<Map<String, Value>> {
        let mut writer: LineDelimitedWriter<Vec<u8>> = WriterBuilder::new().with_explicit_nulls(true).build(Vec::new());
        for batch in &self.batches {
            writer.write(&with_offset_time_zones(batch)).unwrap();
        }
        writer.finish().unwrap();
        let text = String::from_utf8(writer.into_inner()).unwrap();
        text.lines()
            .map(|l| match serde_json::from_str(l).unwrap() {
                Value::Object(m) => m,
                other => panic!("{}: a row rendered as {other}", self.key),
            })
            .collect()
    }
}

/// The batch with `UTC` time zones spelled `+00:00`: Arrow's JSON writer only knows named zones
/// with the `chrono-tz` feature, and the instant is the same.
fn with_offset_time_zones(batch: &RecordBatch) -> RecordBatch {
    fn offset_zones(dt: &DataType) -> DataType {
        match dt {
            DataType::Timestamp(unit, Some(tz)) if tz.as_ref() == "UTC" => {
                DataType::Timestamp(*unit, Some("+00:00".into()))
            }
            DataType::Struct(fields) => DataType::Struct(fields.iter().map(offset_field).collect()),
            DataType::List(item) => DataType::List(offset_field(item)),
            other => other.clone(),
        }
    }
    fn offset_field(f: &FieldRef) -> FieldRef {
        Arc::new(f.as_ref().clone().with_data_type(offset_zones(f.data_type())))
    }
    let columns = batch
        .columns()
        .iter()
        .map(|c| arrow::compute::cast(c, &offset_zones(c.data_type())).unwrap())
        .collect::<Vec<ArrayRef>>();
    let fields: Vec<FieldRef> = batch.schema().fields().iter().map(offset_field).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
}

/// The `eventlake` binary with no inherited `EVENTLAKE_*` or `RUST_LOG` settings and JSON logs.
pub(crate) fn eventlake() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_eventlake"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("EVENTLAKE_") || name == "RUST_LOG" {
            cmd.env_remove(name);
        }
    }
    cmd.args(["--log-format", "json"]);
    cmd
}

/// Runs a command to completion.
pub(crate) fn run(mut cmd: Command) -> Run {
    let text = format!("{cmd:?}");
    let output = cmd.output().unwrap_or_else(|e| panic!("cannot start {text}: {e}"));
    Run::new(text, output)
}

/// A finished `eventlake` process.
pub(crate) struct Run {
    command: String,
    pub(crate) status: ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn new(command: String, output: Output) -> Run {
        Run {
            command,
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts the exit code, showing the whole run when it is not the expected one.
    #[track_caller]
    pub(crate) fn assert_exit(&self, code: i32) -> &Run {
        assert_eq!(self.status.code(), Some(code), "unexpected exit status\n{self}");
        self
    }

    /// The CloudWatch EMF lines on stdout.
    pub(crate) fn emf(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {l}\n{self}")))
            .collect()
    }

    /// The log lines on stderr (JSON objects; the summary table is not one).
    pub(crate) fn logs(&self) -> Vec<Value> {
        self.stderr.lines().filter(|l| l.starts_with('{')).map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    /// The rows of the summary table on stderr, split into cells.
    pub(crate) fn summary(&self) -> Vec<Vec<String>> {
        summary_rows(&self.stderr)
    }

    /// The status cell of `hour` in the summary table.
    #[track_caller]
    pub(crate) fn summary_status(&self, hour: &str) -> String {
        let row = self.summary().into_iter().find(|r| r[0] == hour);
        row.unwrap_or_else(|| panic!("no summary row for {hour}\n{self}"))[1].clone()
    }
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "command: {}\nstatus: {}\n--- stdout\n{}--- stderr\n{}---",
            self.command, self.status, self.stdout, self.stderr
        )
    }
}

/// Parses an aligned table (header, dashes, rows; cells separated by two or more spaces).
pub(crate) fn summary_rows(text: &str) -> Vec<Vec<String>> {
    let lines: Vec<&str> = text.lines().collect();
    let Some(header) = lines.iter().position(|l| l.starts_with("hour ")) else { return Vec::new() };
    lines[header + 2..]
        .iter()
        .take_while(|l| l.len() > 13 && l.as_bytes()[4] == b'-' && l.as_bytes()[10] == b'T')
        .map(|l| l.split("  ").map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned).collect())
        .collect()
}
