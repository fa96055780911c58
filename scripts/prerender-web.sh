#!/usr/bin/env bash
# Pre-render every preset (post-CR rules) with the CLI into pkg/prerendered/: NAME.svg (the
# ladder), NAME.txt (the transcript) and index.json ([{name, description, title}]). The page
# shows these when WebAssembly cannot run (www/fallback.js). Called by scripts/build-wasm.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
cargo build -q --bin cpm-deferral
target_dir="$(cargo metadata --format-version 1 --no-deps 2>/dev/null | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
cli="${target_dir:-target}/debug/cpm-deferral"
out=pkg/prerendered
rm -rf "$out" && mkdir -p "$out"
"$cli" presets > "$out/presets.txt"
while read -r name _; do
  "$cli" run --preset "$name" --format svg --out "$out/$name.svg"
  "$cli" run --preset "$name" --format transcript --out "$out/$name.txt"
done < "$out/presets.txt"
# index.json from the preset list and each SVG's <title> (the scenario title).
node -e '
const fs = require("fs");
const dir = process.argv[1];
const list = fs.readFileSync(dir + "/presets.txt", "utf8").trim().split("\n").map((line) => {
  const i = line.indexOf(" ");
  const name = line.slice(0, i);
  const svg = fs.readFileSync(`${dir}/${name}.svg`, "utf8");
  const m = /<title>([^<]*)<\/title>/.exec(svg);
  const unescape = (s) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, "\"").replace(/&#39;|&apos;/g, "\x27").replace(/&amp;/g, "&");
  return { name, description: line.slice(i + 1), title: m ? unescape(m[1]) : name };
});
fs.writeFileSync(dir + "/index.json", JSON.stringify(list, null, 1) + "\n");
' "$out"
rm "$out/presets.txt"
echo "prerender-web: $(ls "$out"/*.svg | wc -l) presets in $out/" >&2
