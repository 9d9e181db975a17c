// Record which front-end sources the committed build in src/kaifang/web/static was made from.
// tests/web/test_static.py recomputes this hash (in Python) and fails when the sources changed
// without a rebuild. Keep the file list in step with SOURCES in kaifang/web/_static.py.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else files.push(p);
  }
};
for (const f of ["index.html", "package.json", "package-lock.json", "tsconfig.json", "vite.config.ts"]) files.push(join(root, f));
walk(join(root, "src"));
const rel = files.map((f) => relative(root, f).split(sep).join("/")).sort();
const h = createHash("sha256");
for (const r of rel) {
  h.update(r + "\n");
  h.update(readFileSync(join(root, r)));
  h.update("\n");
}
const out = { sources_sha256: h.digest("hex"), files: rel };
writeFileSync(join(root, "../src/kaifang/web/static/build-info.json"), JSON.stringify(out, null, 2) + "\n");
console.log(`build-info: ${rel.length} source files, sha256 ${out.sources_sha256}`);
