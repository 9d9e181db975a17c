// Docstrings of the library (shock types, fields) use reStructuredText markup: ``code``, `x`,
// :func:`name`. In the page it is shown as text, with code as code.

const ROLE = /:[a-z]+:`([^`]+)`/g;

/** The text without markup (for places that show plain text only, like an <option>). */
export function plain(rst: string): string {
  return rst
    .replace(ROLE, (_, x: string) => x.replace(/^~/, "").split(".").slice(-1)[0])
    .replace(/``([^`]+)``/g, "$1")
    .replace(/`([^`]+)`/g, "$1")
    .replace(/\s+/g, " ")
    .trim();
}

/** The text with ``code`` (and `code`) spans shown as code. */
export function Rich({ text }: { text: string }) {
  const flat = text.replace(ROLE, (_, x: string) => "``" + x.replace(/^~/, "").split(".").slice(-1)[0] + "``").replace(/\s+/g, " ").trim();
  const parts = flat.split(/(``[^`]+``|`[^`]+`)/g).filter((p) => p.length > 0);
  return (
    <>
      {parts.map((p, i) =>
        p.startsWith("``") ? <code key={i}>{p.slice(2, -2)}</code> : p.startsWith("`") && p.endsWith("`") && p.length > 1 ? <code key={i}>{p.slice(1, -1)}</code> : p,
      )}
    </>
  );
}

/** The first sentence of a docstring (a short description). */
export function firstSentence(rst: string): string {
  const flat = plain(rst);
  const m = flat.match(/^(.+?[.;:])(\s|$)/);
  return m ? m[1] : flat;
}
