// The policy workbench's editor: CodeMirror 6 over the page's <textarea id="policy-source">.
// Lint: the text is POSTed to the server (data-validate-url, CSRF token in X-CSRF-Token) as
// the user types; its problems and warnings become diagnostics at their line and column and
// are listed under the editor. Completion and hover help: keys and descriptions from the
// policy JSON Schema (data-schema-url). Without this script the textarea still works.
import {EditorView, basicSetup} from "codemirror";
import {EditorState} from "@codemirror/state";
import {keymap, hoverTooltip} from "@codemirror/view";
import {yaml} from "@codemirror/lang-yaml";
import {linter, lintGutter} from "@codemirror/lint";
import {autocompletion} from "@codemirror/autocomplete";
import {indentWithTab} from "@codemirror/commands";

let schema = null;

function resolve(node) {
  let guard = 0;
  while (node && node.$ref && guard++ < 20) {
    const name = node.$ref.split("/").pop();
    node = (schema.$defs || {})[name];
  }
  return node || {};
}

// Every alternative of a schema node (allOf/anyOf/oneOf flattened), resolved.
function variants(node) {
  node = resolve(node);
  const out = [node];
  for (const k of ["allOf", "anyOf", "oneOf"]) for (const sub of node[k] || []) out.push(...variants(sub));
  return out;
}

function child(node, key) {
  const found = [];
  for (const v of variants(node)) {
    if (key === "-") { if (v.items) found.push(v.items); continue; }
    if (v.properties && v.properties[key]) found.push(v.properties[key]);
    else if (v.patternProperties) found.push(...Object.values(v.patternProperties));
    else if (v.additionalProperties && typeof v.additionalProperties === "object") found.push(v.additionalProperties);
  }
  return found.length ? {anyOf: found} : null;
}

// The YAML path (keys, "-" for list items) of the block that encloses line `lineNo` at `indent`.
function pathAt(doc, lineNo, indent) {
  const path = [];
  let want = indent;
  for (let n = lineNo - 1; n >= 1 && want > 0; n--) {
    const text = doc.line(n).text;
    if (!text.trim() || text.trim().startsWith("#")) continue;
    const m = /^(\s*)(- )?(?:([A-Za-z0-9_.-]+)\s*:)?/.exec(text);
    const ind = m[1].length, dash = !!m[2], keycol = ind + (dash ? 2 : 0);
    if (ind >= want) continue;
    if (dash && keycol === want) { path.unshift("-"); want = ind; continue; }
    if (keycol > want) continue;
    if (m[3]) path.unshift(m[3]);
    if (dash) path.unshift("-");
    want = ind;
  }
  return path;
}

function nodeAt(path) {
  let node = schema;
  for (const key of path) { node = child(node, key); if (!node) return null; }
  return node;
}

function completeKeys(context) {
  if (!schema) return null;
  const line = context.state.doc.lineAt(context.pos);
  const before = line.text.slice(0, context.pos - line.from);
  const m = /^(\s*)(- )?([A-Za-z0-9_]*)$/.exec(before);
  if (!m) return null;
  // a "- key" line: its list belongs to the key above the dash (sibling items are skipped)
  const path = pathAt(context.state.doc, line.number, m[1].length);
  if (m[2]) path.push("-");
  const node = nodeAt(path);
  if (!node) return null;
  const options = [];
  const seen = new Set();
  for (const v of variants(node)) for (const [key, sub] of Object.entries(v.properties || {})) {
    if (seen.has(key)) continue;
    seen.add(key);
    options.push({label: key, type: "property", apply: key + ": ", info: resolve(sub).description || sub.description || ""});
  }
  if (!options.length) return null;
  return {from: context.pos - m[3].length, options, validFor: /^[A-Za-z0-9_]*$/};
}

const hoverHelp = hoverTooltip((view, pos) => {
  if (!schema) return null;
  const line = view.state.doc.lineAt(pos);
  const m = /^(\s*)(- )?([A-Za-z0-9_]+)\s*:/.exec(line.text);
  if (!m) return null;
  const start = line.from + m[1].length + (m[2] ? 2 : 0);
  if (pos < start || pos > start + m[3].length) return null;
  const path = pathAt(view.state.doc, line.number, m[1].length);
  if (m[2]) path.push("-");
  path.push(m[3]);
  const node = nodeAt(path);
  const text = node && variants(node).map(v => v.description).find(Boolean);
  if (!text) return null;
  return {pos: start, end: start + m[3].length, above: true, create() {
    const dom = document.createElement("div");
    dom.className = "cm-schema-help";
    dom.textContent = text;
    return {dom};
  }};
});

function diagnostics(doc, result) {
  const out = [];
  const add = (item, severity) => {
    const n = Math.min(Math.max(item.line || 1, 1), doc.lines);
    const line = doc.line(n);
    const from = Math.min(line.from + Math.max((item.column || 1) - 1, 0), line.to);
    out.push({from, to: Math.max(from, line.to), severity, message: item.detail || item.message || ""});
  };
  for (const p of result.problems || []) add(p, "error");
  for (const w of result.warnings || []) add(w, "warning");
  return out;
}

function showList(list, result) {
  list.replaceChildren();
  const items = [...(result.problems || []).map(p => ["error", p]), ...(result.warnings || []).map(w => ["warning", w])];
  for (const [kind, item] of items) {
    const li = document.createElement("li");
    li.className = kind;
    li.textContent = `line ${item.line}, column ${item.column}: ${kind}: ${item.detail || item.message}`;
    list.appendChild(li);
  }
  const summary = document.getElementById("lint-summary");
  if (summary) {
    const n = (result.problems || []).length;
    summary.textContent = n ? `${n} problem${n === 1 ? "" : "s"}` : `valid (${result.ms} ms on the server)`;
    summary.className = n ? "bad" : "good";
  }
}

function start() {
  const area = document.getElementById("policy-source");
  if (!area) return;
  const root = document.getElementById("workbench");
  const nonce = root.dataset.styleNonce;
  const csrf = root.dataset.csrf, validateUrl = root.dataset.validateUrl, readOnly = root.dataset.readonly === "1";
  const list = document.getElementById("lint-list");
  fetch(root.dataset.schemaUrl, {credentials: "same-origin"}).then(r => r.json()).then(s => { schema = s; });
  const serverLint = linter(async view => {
    const res = await fetch(validateUrl, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "text/plain; charset=utf-8", "X-CSRF-Token": csrf}, body: view.state.doc.toString()});
    if (!res.ok) return [];
    const result = await res.json();
    if (list) showList(list, result);
    return diagnostics(view.state.doc, result);
  }, {delay: 400});
  // CodeMirror writes its own styles into a <style> element: the page's CSP admits it by this
  // response's nonce (style-src only; scripts stay 'self').
  const extensions = [EditorView.cspNonce.of(nonce || ""), basicSetup, keymap.of([indentWithTab]), yaml(), lintGutter(), hoverHelp,
    autocompletion({override: [completeKeys]}),
    EditorView.contentAttributes.of({"aria-label": "Policy YAML", "aria-describedby": "lint-summary"}),
    EditorView.updateListener.of(u => { if (u.docChanged) area.value = u.state.doc.toString(); })];
  if (readOnly) extensions.push(EditorState.readOnly.of(true));
  else extensions.push(serverLint);
  const view = new EditorView({doc: area.value, extensions});
  area.hidden = true;
  area.parentNode.insertBefore(view.dom, area);
  area.form && area.form.addEventListener("submit", () => { area.value = view.state.doc.toString(); });
  window.arrearsPolicyEditor = view;     // for the browser tests
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
