//! `cpm-deferral`: run and check CPM deferral scenarios from the command line.
//!
//! ```text
//! cpm-deferral presets
//! cpm-deferral run (FILE.json | --preset NAME) [--rules post-cr|pre-cr]
//!                  [--format text|json|mermaid|plantuml|pcap|svg|transcript] [--out FILE]
//! cpm-deferral check FILE.json
//! ```
#![forbid(unsafe_code)]

use cpm_deferral::export::Format;
use cpm_deferral::scenario::Scenario;
use cpm_deferral::{presets, transcript, Rules};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

const USAGE: &str = "usage:\n  cpm-deferral presets\n  cpm-deferral run (FILE.json | --preset NAME) [--rules post-cr|pre-cr] [--format text|json|mermaid|plantuml|pcap|svg|transcript] [--out FILE]\n  cpm-deferral check FILE.json";

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
    let mut args: Vec<String> = Vec::new();
    for (i, a) in std::env::args_os().skip(1).enumerate() {
        match a.into_string() {
            Ok(a) => args.push(a),
            Err(a) => return fail(format!("argument {} ({a:?}) is not valid UTF-8", i + 1)),
        }
    }
    match args.first().map(String::as_str) {
        Some("presets") if args.len() == 1 => {
            let list: String = presets::all().iter().map(|p| format!("{} {}\n", p.name, p.description)).collect();
            match emit(list.as_bytes()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(code) => code,
            }
        }
        Some("check") if args.len() == 2 => match load(&args[1]) {
            Ok(s) => {
                println!("ok: {} ({} events)", s.title, s.events.len());
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        Some("run") => {
            let (mut source, mut rules, mut format, mut out) = (None, Rules::PostCr, Format::Text, None::<String>);
            let mut it = args[1..].iter();
            while let Some(a) = it.next() {
                match a.as_str() {
                    "--preset" => match it.next() {
                        Some(n) => source = Some(Err(n.clone())),
                        None => return fail("--preset needs a name (see `cpm-deferral presets`)"),
                    },
                    "--rules" => match it.next().map(|r| r.parse::<Rules>()) {
                        Some(Ok(r)) => rules = r,
                        Some(Err(e)) => return fail(e),
                        None => return fail("--rules needs post-cr or pre-cr"),
                    },
                    "--format" => match it.next().map(|f| f.parse::<Format>()) {
                        Some(Ok(f)) => format = f,
                        Some(Err(e)) => return fail(e),
                        None => return fail("--format needs text, json, mermaid, plantuml, pcap, svg or transcript"),
                    },
                    "--out" => match it.next() {
                        Some(f) => out = Some(f.clone()),
                        None => return fail("--out needs a file name"),
                    },
                    f if !f.starts_with("--") && source.is_none() => source = Some(Ok(f.to_string())),
                    other => return fail(format!("unexpected argument {other:?}\n{USAGE}")),
                }
            }
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
        _ => fail(USAGE),
    }
}
