// Result cards and filter menus. Every string from a lesson reaches the page through textContent or a
// property, never through HTML, so a lesson's fields cannot add markup or run code.

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// A passage as a short snippet: markup characters dropped, spaces collapsed, a window around the first query word.
export function snippet(text, words, width = 280) {
  const plain = text.replace(/[*_`#>|]+/g, "").replace(/\s+/g, " ").trim();
  if (plain.length <= width) return plain;
  const lower = plain.toLowerCase().normalize("NFKD").replace(/\p{M}/gu, "");
  const at = Math.min(...words.map((w) => lower.indexOf(w)).filter((i) => i >= 0), plain.length);
  let start = at > width / 3 && at < plain.length ? Math.max(0, Math.min(at - Math.floor(width / 3), plain.length - width)) : 0;
  if (start > 0) start = plain.indexOf(" ", start) + 1 || start;
  let end = Math.min(plain.length, start + width);
  if (end < plain.length) end = Math.max(plain.lastIndexOf(" ", end), start + 1);
  return (start > 0 ? "…" : "") + plain.slice(start, end) + (end < plain.length ? "…" : "");
}

// One result: title link, outcome badge, sector · size · country · year, and the passage that matched best.
export function card(lesson, labels, siteRoot, passage) {
  const item = el("li", "lesson-result");
  item.dataset.lessonId = lesson.id;
  const link = el("a", "lesson-link", lesson.title);
  link.href = new URL(`lessons/${encodeURIComponent(lesson.id)}/`, siteRoot).href;
  const outcome = Object.hasOwn(labels.outcome, lesson.outcome) ? lesson.outcome : "unknown";
  const badge = el("span", `lesson-badge lesson-badge--${outcome}`, labels.outcome[outcome] ?? lesson.outcome);
  const facts = [label(labels.sector, lesson.sector), label(labels.company_size, lesson.company_size), lesson.country, (lesson.date || "").slice(0, 4)];
  item.append(link, " ", badge, " ", el("span", "lesson-facts", facts.filter(Boolean).join(" · ")));
  item.append(el("p", "lesson-passage", passage ?? lesson.summary));
  return item;
}

function label(table, value) {
  return value && Object.hasOwn(table, value) ? table[value] : value;
}

// A <select> per facet, listing the values present among the lessons with their counts, "any" first.
export function filterMenus(container, facets, lessons, labels, chosen) {
  container.replaceChildren();
  for (const facet of facets) {
    const counts = new Map();
    for (const lesson of lessons) {
      const values = facet.field === "date" ? [(lesson.date || "").slice(0, 4)] : [].concat(lesson[facet.field] ?? []);
      for (const value of values) if (value) counts.set(value, (counts.get(value) || 0) + 1);
    }
    const select = el("select");
    select.name = facet.param;
    select.id = `lesson-filter-${facet.param}`;
    select.append(new Option(facet.any, ""));
    const table = labels[facet.labels] || {};
    const values = [...counts.keys()].sort((a, b) => String(label(table, a)).localeCompare(String(label(table, b))));
    for (const value of values) {
      const option = new Option(`${label(table, value)} (${counts.get(value)})`, value);
      option.selected = chosen[facet.param]?.includes(value) ?? false;
      select.append(option);
    }
    const wrap = el("label", "lesson-search__filter", facet.name);
    wrap.append(select);
    container.append(wrap);
  }
  container.hidden = false;
}
