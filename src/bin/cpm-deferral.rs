//! `cpm-deferral`: run and check CPM deferral scenarios from the command line.
//!
//! ```text
//! cpm-deferral presets
//! cpm-deferral run (FILE.json | --preset NAME) [--rules post-cr|pre-cr]
//!                  [--format text|json|mermaid|plantuml|pcap|svg|transcript] [--out FILE]
//! cpm-deferral check FILE.json
//! cpm-deferral conform CAPTURE [--pf IP[:PORT]] [--cf IP[:PORT]] [--rules post-cr|pre-cr] [--format text|json]
//! cpm-deferral help [COMMAND] | --help | --version
//! ```
//!
//! Arguments are parsed with the `lexopt` crate; `--help`, `help COMMAND` and `--version` print
//! to stdout and exit 0; every error is one `error: ` message on stderr with exit status 1.
#![forbid(unsafe_code)]

use cpm_deferral::export::Format;
use cpm_deferral::scenario::Scenario;
use cpm_deferral::{presets, transcript, Rules};
use lexopt::{Arg, Parser, ValueExt};
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

const USAGE: &str = "usage:\n  cpm-deferral presets\n  cpm-deferral run (FILE.json | --preset NAME) [--rules post-cr|pre-cr] [--format text|json|mermaid|plantuml|pcap|svg|transcript] [--out FILE]\n  cpm-deferral check FILE.json\n  cpm-deferral conform CAPTURE [--pf IP[:PORT]] [--cf IP[:PORT]] [--rules post-cr|pre-cr] [--format text|json]";

const HELP: &str = "cpm-deferral: run and check scenarios of OMA CPM deferred group session handling (§8.3.2.9)

usage:
  cpm-deferral presets
  cpm-deferral run (FILE.json | --preset NAME) [--rules post-cr|pre-cr] [--format text|json|mermaid|plantuml|pcap|svg|transcript] [--out FILE]
  cpm-deferral check FILE.json
  cpm-deferral conform CAPTURE [--pf IP[:PORT]] [--cf IP[:PORT]] [--rules post-cr|pre-cr] [--format text|json]
  cpm-deferral help [COMMAND]
  cpm-deferral --help | --version

commands:
  presets   list the built-in scenarios, one per line: name, a space, description
  run       simulate a scenario file or a preset and print or write its trace
  check     validate a scenario file
  conform   judge a capture of a real PF's traffic against §8.3.2.9
  help      print this help, or the help of COMMAND

`cpm-deferral help COMMAND` or `cpm-deferral COMMAND --help` describes a command.
Exit status: 0 on success, 1 on an error (a message on stderr starting with `error: `).";

const HELP_PRESETS: &str = "usage: cpm-deferral presets

Prints one line per built-in scenario: its name, a space, its description.
Run one with `cpm-deferral run --preset NAME`.";

const HELP_RUN: &str = "usage: cpm-deferral run (FILE.json | --preset NAME) [--rules post-cr|pre-cr] [--format FORMAT] [--out FILE]

Simulates a scenario file, or a built-in scenario (`cpm-deferral presets`), and prints its trace.

options:
  --preset NAME    a built-in scenario instead of FILE.json
  --rules RULES    post-cr (default: §8.3.2.9 as amended by the CR) or pre-cr (the text before it)
  --format FORMAT  text (default: a transcript), json (the whole trace, one line),
                   mermaid, plantuml, svg, transcript, pcap (binary: needs --out or a redirect)
  --out FILE       write to FILE instead of stdout (checked before the run; FILE is replaced
                   only by a complete output, never left half-written)

JSON is written as it is made. When stderr is a terminal, a run of more than 2,000 events
shows its progress there.";

const HELP_CHECK: &str = "usage: cpm-deferral check FILE.json

Validates a scenario file and prints `ok: TITLE (N events)`, or one line naming the field
and the reason on stderr (exit status 1).";

const HELP_CONFORM: &str = "usage: cpm-deferral conform CAPTURE [--pf IP[:PORT]] [--cf IP[:PORT]] [--rules post-cr|pre-cr] [--format text|json]

Judges a capture (pcap or pcapng) of a real PF's traffic against §8.3.2.9: finds the roles
(Carol's side, her PF, the CF, the S-CSCF), rebuilds what reached the PF as a timeline, runs
the model's PF on it and compares what the real PF sent towards the focus and towards Carol,
in order and by content (not ids or latencies). Prints a verdict per sentence of the clause,
the first deviation on each side (time, frame, expected, observed), the policy options
consistent with the capture, and the events it had to infer.

options:
  --pf IP[:PORT]   the PF, when the capture cannot show which node it is
  --cf IP[:PORT]   the CF (the group's focus), likewise
  --rules RULES    post-cr (default: the amended text) or pre-cr (the text before the CR)
  --format FORMAT  text (default) or json (`verdict`, `clauses`, `deviations`, `policies`,
                   `inferred`, `roles` and `scenario`: the rebuilt timeline, a scenario file)

Exit status: 0 the PF conforms; 1 at least one deviation; 2 cannot judge (a bad or
unsupported capture, no PF found, or an inconclusive judgement), with one line on stderr.";

const HELP_HELP: &str = "usage: cpm-deferral help [COMMAND]

Prints the help, or the help of COMMAND (presets, run, check, conform).";

/// What the command line asks for.
enum Command {
    Presets,
    Check(String),
    Run(RunArgs),
    Conform(ConformArgs),
    /// Text to print on stdout (help, version).
    Print(String),
}

struct ConformArgs {
    capture: String,
    pf: Option<cpm_deferral::capture::roles::Node>,
    cf: Option<cpm_deferral::capture::roles::Node>,
    rules: Rules,
    json: bool,
}

struct RunArgs {
    /// `Ok(file)` or `Err(preset name)`.
    source: Option<Result<String, String>>,
    rules: Rules,
    format: Format,
    out: Option<String>,
}

/// The help of a command, by name.
fn help_of(command: &str) -> Option<&'static str> {
    Some(match command {
        "presets" => HELP_PRESETS,
        "run" => HELP_RUN,
        "check" => HELP_CHECK,
        "conform" => HELP_CONFORM,
        "help" => HELP_HELP,
        _ => return None,
    })
}

/// An argument as text (every argument was checked to be UTF-8 before parsing).
fn text(v: OsString) -> String {
    v.to_string_lossy().into_owned()
}

/// An argument as the user typed it, for an error message.
fn shown(arg: &Arg<'_>) -> String {
    match arg {
        Arg::Long(l) => format!("--{l}"),
        Arg::Short(c) => format!("-{c}"),
        Arg::Value(v) => v.to_string_lossy().into_owned(),
    }
}

/// An option's value (`--opt VALUE` or `--opt=VALUE`), or `missing` when there is none.
fn value(p: &mut Parser, missing: &str) -> Result<String, String> {
    match p.value() {
        Ok(v) => v.string().map_err(|e| e.to_string()),
        Err(_) => Err(missing.to_string()),
    }
}

/// Parses the command line (with the `lexopt` crate).
fn parse_args(args: Vec<OsString>) -> Result<Command, String> {
    for (i, a) in args.iter().enumerate() {
        if a.to_str().is_none() {
            return Err(format!("argument {} ({a:?}) is not valid UTF-8", i + 1));
        }
    }
    let mut p = Parser::from_args(args);
    let command = match p.next().map_err(|e| e.to_string())? {
        None => return Err(USAGE.to_string()),
        Some(Arg::Long("help")) | Some(Arg::Short('h')) => return Ok(Command::Print(HELP.to_string())),
        Some(Arg::Long("version")) | Some(Arg::Short('V')) => return Ok(Command::Print(format!("cpm-deferral {}", env!("CARGO_PKG_VERSION")))),
        Some(Arg::Value(v)) => text(v),
        Some(_) => return Err(USAGE.to_string()),
    };
    let mut positional: Vec<String> = Vec::new();
    let mut run = RunArgs { source: None, rules: Rules::PostCr, format: Format::Text, out: None };
    let is_run = command == "run";
    let is_conform = command == "conform";
    let mut conform = ConformArgs { capture: String::new(), pf: None, cf: None, rules: Rules::PostCr, json: false };
    if help_of(&command).is_none() {
        return Err(USAGE.to_string());
    }
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        match arg {
            Arg::Long("help") | Arg::Short('h') => return Ok(Command::Print(help_of(&command).unwrap_or(HELP).to_string())),
            Arg::Long("preset") if is_run => run.source = Some(Err(value(&mut p, "--preset needs a name (see `cpm-deferral presets`)")?)),
            Arg::Long("rules") if is_run => run.rules = value(&mut p, "--rules needs post-cr or pre-cr")?.parse::<Rules>().map_err(|e| e.to_string())?,
            Arg::Long("format") if is_run => {
                run.format =
                    value(&mut p, "--format needs text, json, mermaid, plantuml, pcap, svg or transcript")?.parse::<Format>().map_err(|e| e.to_string())?
            }
            Arg::Long("out") if is_run => run.out = Some(value(&mut p, "--out needs a file name")?),
            Arg::Long("pf") if is_conform => conform.pf = Some(value(&mut p, "--pf needs IP or IP:PORT")?.parse().map_err(|e| format!("--pf: {e}"))?),
            Arg::Long("cf") if is_conform => conform.cf = Some(value(&mut p, "--cf needs IP or IP:PORT")?.parse().map_err(|e| format!("--cf: {e}"))?),
            Arg::Long("rules") if is_conform => {
                conform.rules = value(&mut p, "--rules needs post-cr or pre-cr")?.parse::<Rules>().map_err(|e| e.to_string())?
            }
            Arg::Long("format") if is_conform => {
                conform.json = match value(&mut p, "--format needs text or json")?.as_str() {
                    "json" => true,
                    "text" => false,
                    other => return Err(format!("conform's --format is text or json, not {:?}", cpm_deferral::shown::cut(other))),
                }
            }
            other @ (Arg::Long(_) | Arg::Short(_)) if is_conform => return Err(format!("unexpected argument {:?}\n{USAGE}", shown(&other))),
            Arg::Value(v) if is_run && run.source.is_none() => run.source = Some(Ok(text(v))),
            Arg::Value(v) if !is_run => positional.push(text(v)),
            other if is_run => return Err(format!("unexpected argument {:?}\n{USAGE}", shown(&other))),
            _ => return Err(USAGE.to_string()),
        }
    }
    match (command.as_str(), positional.as_slice()) {
        ("presets", []) => Ok(Command::Presets),
        ("check", [file]) => Ok(Command::Check(file.clone())),
        ("run", []) => Ok(Command::Run(run)),
        ("conform", [file]) => Ok(Command::Conform(ConformArgs { capture: file.clone(), ..conform })),
        ("conform", []) => Err(format!("conform needs a CAPTURE file (pcap or pcapng)\n{USAGE}")),
        ("help", []) => Ok(Command::Print(HELP.to_string())),
        ("help", [c]) => match help_of(c) {
            Some(h) => Ok(Command::Print(h.to_string())),
            None => Err(format!("unknown command {c:?} (commands: presets, run, check, conform, help)")),
        },
        _ => Err(USAGE.to_string()),
    }
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(1)
}

/// Writes `text` to stdout. A reader that went away (`| head`) is not an error: the output is
/// simply not wanted any more.
fn emit(text: &[u8]) -> Result<(), ExitCode> {
    let mut so = std::io::stdout().lock();
    match so.write_all(text).and_then(|_| so.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(ExitCode::SUCCESS),
        Err(e) => Err(fail(format!("stdout: {e}"))),
    }
}

fn load(file: &str) -> Result<Scenario, String> {
    let text = cpm_deferral::input::read_scenario_text(file).map_err(|e| e.to_string())?;
    Scenario::from_json(&text).map_err(|e| format!("{file}: {e}"))
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let conform_cmd = args.first().is_some_and(|a| a == "conform");
    let command = match parse_args(args) {
        Ok(c) => c,
        // `conform` keeps exit status 1 for "the PF deviates": its usage errors are 2.
        Err(e) if conform_cmd => return cannot_judge(e),
        Err(e) => return fail(e),
    };
    match command {
        Command::Print(text) => match emit(format!("{text}\n").as_bytes()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(code) => code,
        },
        Command::Presets => {
            let list: String = presets::all().iter().map(|p| format!("{} {}\n", p.name, p.description)).collect();
            match emit(list.as_bytes()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(code) => code,
            }
        }
        Command::Check(file) => match load(&file) {
            Ok(s) => {
                println!("ok: {} ({} events)", s.title, s.events.len());
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        Command::Run(args) => run(args),
        Command::Conform(args) => conform(args),
    }
}

fn cannot_judge(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

fn conform(args: ConformArgs) -> ExitCode {
    let file = &args.capture;
    // Read streaming (src/judge/stream.rs): memory stays bounded whatever the file's size, so
    // no size is refused; a device that never ends (/dev/zero) is not a capture and the reader
    // says so at its first bytes.
    let input = match std::fs::File::open(file) {
        Ok(f) => std::io::BufReader::with_capacity(1 << 16, f),
        Err(e) => return cannot_judge(format!("{file}: {e}")),
    };
    let opts = cpm_deferral::judge::Options { pf: args.pf, cf: args.cf, rules: args.rules };
    let j = match cpm_deferral::judge::judge_reader(input, opts) {
        Ok(j) => j,
        Err(e) => return cannot_judge(format!("{file}: {e}")),
    };
    let text = if args.json { cpm_deferral::judge::to_json(&j) + "\n" } else { cpm_deferral::judge::to_text(&j) };
    if let Err(code) = emit(text.as_bytes()) {
        return code;
    }
    match j.verdict {
        cpm_deferral::judge::Verdict::Pass => ExitCode::SUCCESS,
        cpm_deferral::judge::Verdict::Fail => ExitCode::from(1),
        cpm_deferral::judge::Verdict::Inconclusive => {
            eprintln!("inconclusive: no deviation, but the capture does not show enough of §8.3.2.9 to judge (see the clauses)");
            ExitCode::from(2)
        }
    }
}

fn run(args: RunArgs) -> ExitCode {
    let RunArgs { source, rules, format, out } = args;
    // Where the output goes is settled before the run: a place that cannot be written, or a
    // binary format for a terminal, is refused at once, not after seconds of simulation.
    if out.is_none() && format.is_binary() && std::io::stdout().is_terminal() {
        return fail(format!("{format} is binary: use --out FILE or redirect the output"));
    }
    let mut sink = match &out {
        Some(file) => match Sink::file(file) {
            Ok(s) => s,
            Err(e) => return fail(e),
        },
        None => Sink::Stdout,
    };
    let scenario = match source {
        None => return fail(format!("run needs a FILE.json or --preset NAME\n{USAGE}")),
        Some(Ok(file)) => match load(&file) {
            Ok(s) => s,
            Err(e) => return fail(e),
        },
        Some(Err(name)) => match presets::find(&name) {
            None => return fail(format!("unknown preset {name:?} (see `cpm-deferral presets`)")),
            Some(p) => match Scenario::from_json(p.json) {
                Ok(s) => s,
                Err(e) => return fail(format!("preset {name}: {e}")),
            },
        },
    };
    let progress = Progress::new(scenario.events.len(), rules);
    let trace = cpm_deferral::run(&scenario, rules);
    progress.ran(trace.steps.len());
    // Every format but JSON is made whole first (as before); a failure there is the export's.
    let made = match format {
        Format::Json => None,
        Format::Text => Some(transcript::render(&trace).into_bytes()),
        _ => match cpm_deferral::export::render(&trace, &scenario, format) {
            Ok(bytes) => Some(bytes),
            Err(e) => {
                progress.clear();
                return fail(e);
            }
        },
    };
    let mut w = Counted { inner: sink.writer(), bytes: 0, progress: &progress, format };
    // JSON is written as it is serialised (a 20,000-message trace is ~400 MB of it), so memory
    // stays the trace's own rather than the trace's and the text's.
    let r = match &made {
        None => serde_json::to_writer(&mut w, &trace).map_err(std::io::Error::from).and_then(|_| w.write_all(b"\n")),
        Some(bytes) => w.write_all(bytes),
    };
    let r = r.and_then(|_| w.flush());
    let bytes = w.bytes;
    drop(w);
    progress.clear();
    match r.and_then(|_| sink.finish()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if out.is_none() && e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let kept = if sink.abandon() { format!("; {} was left as it was", out.as_deref().unwrap_or_default()) } else { String::new() };
            let mb = bytes as f64 / 1e6;
            match &out {
                Some(file) => fail(format!("{file}: {e} (after {mb:.1} MB of {format}){kept}")),
                None => fail(format!("stdout: {e} (after {mb:.1} MB of {format})")),
            }
        }
    }
}

/// The output of `run`: stdout, or a file. A regular file is written under a temporary name
/// next to it and renamed when complete, so a run that fails (a full disk, Ctrl+C) never leaves
/// a truncated FILE and never spoils the one that was there; a device or a FIFO is written
/// as it is.
enum Sink {
    Stdout,
    File { file: String, tmp: Option<std::path::PathBuf>, w: Option<std::io::BufWriter<std::fs::File>> },
}

impl Sink {
    fn file(file: &str) -> Result<Sink, String> {
        let path = std::path::Path::new(file);
        let meta = std::fs::metadata(path).ok();
        if meta.as_ref().is_some_and(|m| m.is_dir()) {
            return Err(format!("{file}: is a directory (--out needs a file name)"));
        }
        if meta.as_ref().is_some_and(|m| m.permissions().readonly()) {
            return Err(format!("{file}: the file is read-only"));
        }
        let regular = meta.as_ref().is_none_or(|m| m.is_file());
        let tmp = regular.then(|| {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            path.with_file_name(format!(".{name}.{}.partial", std::process::id()))
        });
        let f = match &tmp {
            Some(t) => std::fs::OpenOptions::new().write(true).create_new(true).open(t),
            None => std::fs::OpenOptions::new().write(true).open(path),
        };
        match f {
            Ok(f) => Ok(Sink::File { file: file.to_string(), tmp, w: Some(std::io::BufWriter::with_capacity(1 << 16, f)) }),
            Err(e) => Err(format!("{file}: {e}")),
        }
    }

    fn writer(&mut self) -> Box<dyn Write + '_> {
        match self {
            Sink::Stdout => Box::new(std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock())),
            Sink::File { w, .. } => Box::new(w.as_mut().expect("the file is open until finish")),
        }
    }

    /// Makes the output the file's: flushed, synced to disk, renamed over FILE.
    fn finish(&mut self) -> std::io::Result<()> {
        if let Sink::File { file, tmp, w } = self {
            let f = w.take().expect("finished once").into_inner().map_err(|e| e.into_error())?;
            if let Some(t) = tmp.take() {
                f.sync_all()?;
                drop(f);
                if let Err(e) = std::fs::rename(&t, file.as_str()) {
                    let _ = std::fs::remove_file(&t);
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// A failed run: the temporary file goes, FILE stays as it was (true when there was one).
    fn abandon(&mut self) -> bool {
        if let Sink::File { tmp, w, .. } = self {
            drop(w.take());
            if let Some(t) = tmp.take() {
                let _ = std::fs::remove_file(t);
                return true;
            }
        }
        false
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.abandon();
    }
}

/// Progress on stderr, only when stderr is a terminal and the work is long: a line saying what
/// runs, then the bytes written, redrawn at most every 200 ms, cleared at the end.
struct Progress {
    on: bool,
    start: std::time::Instant,
    last: std::cell::Cell<Option<std::time::Instant>>,
}

impl Progress {
    /// Events above which a run is long enough to say so (the page's threshold, FAST_EVENTS).
    const LONG: usize = 2000;

    fn new(events: usize, rules: Rules) -> Progress {
        let on = events > Self::LONG && std::io::stderr().is_terminal();
        if on {
            eprint!("cpm-deferral: running {} events under {}…", thousands(events as u64), rules.as_str());
        }
        Progress { on, start: std::time::Instant::now(), last: std::cell::Cell::new(None) }
    }

    fn ran(&self, steps: usize) {
        if self.on {
            eprint!("\r\x1b[Kcpm-deferral: {} steps in {:.1} s; writing…", thousands(steps as u64), self.start.elapsed().as_secs_f64());
        }
    }

    fn wrote(&self, bytes: u64, format: Format) {
        if !self.on {
            return;
        }
        let now = std::time::Instant::now();
        if self.last.get().is_some_and(|t| now.duration_since(t).as_millis() < 200) {
            return;
        }
        self.last.set(Some(now));
        eprint!("\r\x1b[Kcpm-deferral: {:.1} MB of {format} written ({:.1} s)", bytes as f64 / 1e6, self.start.elapsed().as_secs_f64());
    }

    fn clear(&self) {
        if self.on {
            eprint!("\r\x1b[K");
        }
    }
}

/// A writer that counts what passes and reports it to the progress line.
struct Counted<'a, W: Write> {
    inner: W,
    bytes: u64,
    progress: &'a Progress,
    format: Format,
}

impl<W: Write> Write for Counted<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        self.progress.wrote(self.bytes, self.format);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// 576679 as "576,679".
fn thousands(n: u64) -> String {
    let d = n.to_string();
    let mut out = String::new();
    for (i, c) in d.chars().enumerate() {
        if i > 0 && (d.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
