// Formulas in the site's Markdown, $$…$$ on a line of its own (display) and $…$ (inline), turned
// into MathML when the site is built: the pages show mathematics with no script or font to load.
import katex from "katex";
import { MarkdownEvent } from "typedoc";

/** Code spans and fences, left as they are. */
const CODE = /(```[\s\S]*?```|`[^`\n]*`)/g;
const DISPLAY = /\$\$([\s\S]+?)\$\$/g;
/** `$x$` with no space inside either dollar, and no digit after the closing one (`$5`). */
const INLINE = /\$(?=\S)([^$\n]*?\S)\$(?!\d)/g;

function render(tex, displayMode, where) {
  try {
    return katex.renderToString(tex.trim(), { output: "mathml", displayMode, throwOnError: true });
  } catch (e) {
    throw new Error(`math: ${where}: cannot render $${tex}$: ${e.message}`);
  }
}

/** `markdown` with every formula outside code replaced by its MathML. */
export function renderMath(markdown, where = "a page") {
  return markdown.split(CODE).map((part, i) => (i % 2 === 1 ? part : part
    .replace(DISPLAY, (_, tex) => `<div class="math">${render(tex, true, where)}</div>`)
    .replace(INLINE, (_, tex) => render(tex, false, where)))).join("");
}

/** Runs before the Markdown is parsed, so the parser passes the MathML through as HTML. */
export function load(app) {
  app.renderer.on(MarkdownEvent.PARSE, (event) => {
    event.parsedText = renderMath(event.parsedText, event.page?.url ?? "a page");
  }, 100);
}
