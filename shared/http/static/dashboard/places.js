// Place codes beside their names (平邑县 371326), the full name (山东省临沂市平邑县) on hover.
// PLACE_NAMES, the GB/T 2260 table by code, is written into the bundle by the server.

// Grouping entries of the table that are not places of their own ("districts under the city").
const GROUPINGS = new Set(["市辖区", "县", "省直辖县级行政单位", "省直辖行政单位", "自治区直辖县级行政单位"]);

function placeFullName(code) {
  const parts = [];
  for (const level of [`${code.slice(0, 2)}0000`, `${code.slice(0, 4)}00`, code]) {
    const name = PLACE_NAMES[level];
    if (name && !GROUPINGS.has(name) && parts[parts.length - 1] !== name) parts.push(name);
  }
  return parts.join("");
}

function placeText(code) {
  if (!code) return "";
  const name = PLACE_NAMES[code];
  return name ? `${name} ${code}` : code;
}

function placeCell(code) {
  const span = document.createElement("span");
  span.className = "place";
  span.textContent = placeText(code);
  if (code && PLACE_NAMES[code]) span.title = placeFullName(code);
  return span;
}
