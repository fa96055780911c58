//! `cpm-deferral`: run and check CPM deferral scenarios from the command line.
//!
//! ```text
//! cpm-deferral presets
//! cpm-deferral run (FILE.json | --preset NAME) [--rules post-cr|pre-cr]
//!                  [--format text|json|mermaid|plantuml|pcap|svg|transcript] [--out FILE]
//! cpm-deferral check FILE.json
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

const USAGE: &str = "usage:\n  cpm-deferral presets\n  cpm-deferral run (FILE.json | --preset NAME) [--rules post-cr|pre-cr] [--format text|json|mermaid|plantuml|pcap|svg|transcript] [--out FILE]\n  cpm-deferral check FILE.json";

const HELP: &str = "cpm-deferral: run and check scenarios of OMA CPM deferred group session handling (§8.3.2.9)

usage:
  cpm-deferral presets
  cpm-deferral run (FILE.json | --preset NAME) [--rules post-cr|pre-cr] [--format text|json|mermaid|plantuml|pcap|svg|transcript] [--out FILE]
  cpm-deferral check FILE.json
  cpm-deferral help [COMMAND]
  cpm-deferral --help | --version

commands:
  presets   list the built-in scenarios, one per line: name, a space, description
  run       simulate a scenario file or a preset and print or write its trace
  check     validate a scenario file
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
  --out FILE       write to FILE instead of stdout";

const HELP_CHECK: &str = "usage: cpm-deferral check FILE.json

Validates a scenario file and prints `ok: TITLE (N events)`, or one line naming the field
and the reason on stderr (exit status 1).";

const HELP_HELP: &str = "usage: cpm-deferral help [COMMAND]

Prints the help, or the help of COMMAND (presets, run, check).";

/// What the command line asks for.
enum Command {
    Presets,
    Check(String),
    Run(RunArgs),
    /// Text to print on stdout (help, version).
    Print(String),
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
        ("help", []) => Ok(Command::Print(HELP.to_string())),
        ("help", [c]) => match help_of(c) {
            Some(h) => Ok(Command::Print(h.to_string())),
            None => Err(format!("unknown command {c:?} (commands: presets, run, check, help)")),
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
    let command = match parse_args(std::env::args_os().skip(1).collect()) {
        Ok(c) => c,
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
    }
}

fn run(args: RunArgs) -> ExitCode {
    let RunArgs { source, rules, format, out } = args;
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
    let trace = cpm_deferral::run(&scenario, rules);
    if out.is_none() && format == Format::Json {
        if let Err(code) = emit(format!("{}\n", trace.to_json()).as_bytes()) {
            return code;
        }
    } else if out.is_none() && format == Format::Text {
        if let Err(code) = emit(transcript::render(&trace).as_bytes()) {
            return code;
        }
    } else {
        let mut bytes = match cpm_deferral::export::render(&trace, &scenario, format) {
            Ok(b) => b,
            Err(e) => return fail(e),
        };
        if format == Format::Json {
            bytes.push(b'\n');
        }
        match out {
            Some(file) => {
                if let Err(e) = std::fs::write(&file, &bytes) {
                    return fail(format!("{file}: {e}"));
                }
            }
            None if format.is_binary() && std::io::stdout().is_terminal() => {
                return fail(format!("{format} is binary: use --out FILE or redirect the output"));
            }
            None => {
                if let Err(code) = emit(&bytes) {
                    return code;
                }
            }
        }
    }
    ExitCode::SUCCESS
}
