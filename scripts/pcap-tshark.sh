#!/usr/bin/env bash
# Export the pcap of presets and look at them with tshark (Debian package `tshark`).
#
#   scripts/pcap-tshark.sh                      every preset under both rules: one summary line each
#   scripts/pcap-tshark.sh PRESET [RULES]       one run: the SIP/MSRP ladder as tshark dissects it
#
# Files go to target/pcap/PRESET.RULES.pcap (open them in Wireshark too). The options are those
# of tests/export.rs: TCP desegmentation on, IP/TCP checksum validation on, and "decode as MSRP"
# for the MSRP ports of the engine's SDP (tshark also finds MSRP heuristically). A summary line
# counts packets that tshark marks malformed or with an expert error (must be 0) and the SIP
# and MSRP PDUs it dissected. The authoritative check is `cargo test --test export`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
command -v tshark >/dev/null || { echo "pcap-tshark: tshark is missing (DEBIAN_FRONTEND=noninteractive apt-get install -y tshark)" >&2; exit 1; }
cargo build -q --bin cpm-deferral
bin=target/debug/cpm-deferral
mkdir -p target/pcap

opts=(-n -o tcp.desegment_tcp_streams:TRUE -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE)
for port in 20000 20001 30000 49152 $(seq 49150 49159); do opts+=(-d "tcp.port==$port,msrp"); done

one() { # one PRESET RULES -> path of the pcap
  local f="target/pcap/$1.$2.pcap"
  "$bin" run --preset "$1" --rules "$2" --format pcap --out "$f"
  echo "$f"
}

if [ $# -ge 1 ]; then
  f=$(one "$1" "${2:-post-cr}")
  tshark "${opts[@]}" -r "$f" -Y 'sip || msrp' 2>/dev/null
  echo "malformed or error packets: $(tshark "${opts[@]}" -r "$f" -Y '_ws.malformed || _ws.expert.severity == error' 2>/dev/null | wc -l)"
  exit 0
fi

bad_total=0
for preset in $("$bin" presets | cut -d' ' -f1); do
  for rules in post-cr pre-cr; do
    f=$(one "$preset" "$rules")
    bad=$(tshark "${opts[@]}" -r "$f" -Y '_ws.malformed || _ws.expert.severity == error' 2>/dev/null | wc -l)
    # One line per SIP/MSRP layer at top level (a 3rd-party REGISTER's message/sip body is nested).
    sip=$(tshark "${opts[@]}" -r "$f" -Y sip -T fields -E occurrence=f -e sip.CSeq 2>/dev/null | grep -c . || true)
    msrp=$(tshark "${opts[@]}" -r "$f" -Y msrp -T fields -E occurrence=f -e msrp.transaction.id 2>/dev/null | grep -c . || true)
    # The trace's messages that arrived, from the text ladder ("a -SIP-> b", "(never arrives)").
    ladder=$("$bin" run --preset "$preset" --rules "$rules")
    want_sip=$(grep -E '^ *[0-9.]+s  [^ ]+ -SIP-> ' <<<"$ladder" | grep -vc 'never arrives' || true)
    want_msrp=$(grep -E '^ *[0-9.]+s  [^ ]+ -MSRP-> ' <<<"$ladder" | grep -vc 'never arrives' || true)
    printf '%-28s %-8s malformed/errors %s  SIP %s (trace %s)  MSRP %s (trace %s)\n' "$preset" "$rules" "$bad" "$sip" "$want_sip" "$msrp" "$want_msrp"
    bad_total=$((bad_total + bad))
    if [ "$sip" != "$want_sip" ] || [ "$msrp" != "$want_msrp" ]; then bad_total=$((bad_total + 1)); fi
  done
done
[ "$bad_total" -eq 0 ] && echo "pcap-tshark: all clean" || { echo "pcap-tshark: problems found" >&2; exit 1; }
