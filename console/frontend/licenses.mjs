// Writes ../static/workbench.licenses.txt: the licence of every npm package bundled into
// workbench.js and htmx.min.js (all but the build tool), as their MIT licences ask copies to carry.
import {readFileSync, readdirSync, writeFileSync} from "node:fs";

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const parts = ["Third-party software bundled in workbench.js and copied to htmx.min.js (built from console/frontend).\n"];
for (const [path, meta] of Object.entries(lock.packages).sort()) {
  if (!path || path.includes("esbuild")) continue;
  const name = path.replace(/^.*node_modules\//, "");
  const file = readdirSync(path).find(f => /^(licen[cs]e|copying)/i.test(f));
  const text = file ? readFileSync(`${path}/${file}`, "utf8").trim() : `${meta.license || "see the package"}`;
  parts.push(`${"=".repeat(72)}\n${name} ${meta.version} (${meta.license || "?"})\n\n${text}\n`);
}
writeFileSync("../static/workbench.licenses.txt", parts.join("\n"));
