/** `text` on one line, cut to `max` characters with an ellipsis: for snippets and answer lines, in memory and agent alike. */
export function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
