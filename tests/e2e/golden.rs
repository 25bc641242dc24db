//! Golden files under `tests/golden/`. `EVENTLAKE_REGENERATE=1` rewrites them from the current
//! output (review the diff before committing); otherwise a mismatch fails with a line diff.

use std::path::PathBuf;

/// The folder of golden files.
pub(crate) fn golden_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/golden"))
}

fn regenerating() -> bool {
    std::env::var("EVENTLAKE_REGENERATE").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Compares `actual` with the golden file `rel` (under `tests/golden/`), or rewrites it.
#[track_caller]
pub(crate) fn assert_golden(rel: &str, actual: &str) {
    let path = golden_dir().join(rel);
    if regenerating() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        // Both storage variants write the same file; skipping equal content keeps mtimes quiet.
        if std::fs::read_to_string(&path).ok().as_deref() != Some(actual) {
            std::fs::write(&path, actual).unwrap();
        }
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("golden file {} is unreadable ({e}); create it with EVENTLAKE_REGENERATE=1", path.display())
    });
    if expected != actual {
        panic!(
            "{} differs from the output (- golden, + actual); if the change is intended, rerun with \
             EVENTLAKE_REGENERATE=1 and review the diff\n{}",
            path.display(),
            diff(&expected, actual)
        );
    }
}

/// Fails with a line diff when two renderings differ (for comparisons that have no golden file).
#[track_caller]
pub(crate) fn assert_same_text(what: &str, expected: &str, actual: &str) {
    if expected != actual {
        panic!("{what} differs (- expected, + actual):\n{}", diff(expected, actual));
    }
}

/// A line diff (longest common subsequence) with two lines of context around each change.
pub(crate) fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    if a.len() * b.len() > 25_000_000 {
        // Too big for the quadratic diff: show where they start to differ.
        let at = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
        return format!(
            "first difference at line {}:\n- {}\n+ {}\n",
            at + 1,
            a.get(at).unwrap_or(&"(end)"),
            b.get(at).unwrap_or(&"(end)")
        );
    }
    // lcs[i][j]: length of the LCS of a[i..] and b[j..]. The files are small.
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', a[i]));
            i += 1;
        } else {
            ops.push(('+', b[j]));
            j += 1;
        }
    }
    const CONTEXT: usize = 2;
    let near_change =
        |k: usize| ops[k.saturating_sub(CONTEXT)..(k + CONTEXT + 1).min(ops.len())].iter().any(|(op, _)| *op != ' ');
    let mut out = String::new();
    let mut skipped = false;
    for (k, (op, line)) in ops.iter().enumerate() {
        if near_change(k) {
            if skipped {
                out.push_str("  ...\n");
                skipped = false;
            }
            out.push_str(&format!("{op} {line}\n"));
        } else {
            skipped = true;
        }
    }
    if skipped {
        out.push_str("  ...\n");
    }
    if expected.ends_with('\n') != actual.ends_with('\n') {
        out.push_str("(the files differ in their final newline)\n");
    }
    out
}

#[test]
fn diff_shows_changes_with_context() {
    let d = diff("a\nb\nc\nd\ne\nf\ng\n", "a\nb\nc\nD\ne\nf\ng\n");
    assert_eq!(d, "  ...\n  b\n  c\n- d\n+ D\n  e\n  f\n  ...\n");
}
