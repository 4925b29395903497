/* ikmeta review page: draws the groups held in #ikmeta-data, keeps the user's choice, and saves
   it as a report for `ikmeta apply` (the format `ikmeta dupes --json` writes). Plain JavaScript,
   no framework, no request to anywhere. Names go into the page as text, never as markup. */
"use strict";

(function reviewPage() {
  const EXACT_FIELDS = new Set(["size", "mtimeNs"]); // integers that may not fit a double
  const FIRST_DRAWN = 40; // groups drawn before the browser reads on
  const DRAWN_PER_TASK = 250; // then this many at a time
  // Groups go into blocks the browser skips drawing while they are off screen (content-visibility):
  // a few hundred blocks scroll smoothly where thousands of skipped groups would not.
  const GROUPS_PER_BLOCK = 50;
  const GROUP_HEIGHT_REM = 27; // a group's height before it is drawn once (then the browser knows it)
  const THUMB_TYPE = "data:image/webp;base64,";
  // How a copy can be turned (ikmeta.hashes.TURNS), by number: 4 and over mirrored left to
  // right first, then so many quarter turns clockwise (k % 4). 0: as it stands.
  const TURNS = [
    null,
    "rotated 90",
    "rotated 180",
    "rotated 270",
    "mirrored",
    "mirrored, rotated 90",
    "mirrored, rotated 180",
    "mirrored, rotated 270",
  ];
  // The other matches, the other way round: how the reference relates to a copy that matched
  // it so (a truncated copy's distance is that of the two pHashes as they stand).
  const REVERSED = new Map([
    ["framed", "without the frame"],
    ["without the frame", "framed"],
    ["band added", "without the band"],
    ["without the band", "band added"],
    ["cropped", "uncropped"],
    ["uncropped", "cropped"],
    ["edge differs", "edge differs"],
    ["reframed", "reframed"],
    ["truncated", null],
  ]);
  // Formats a browser may show whole from their file (others, HEIC, TIFF, RAW..., only in some).
  const SHOWN_FORMATS = new Set(["jpg", "jpeg", "png", "gif", "webp", "bmp", "avif", "ico", "svg"]);

  const state = {
    fields: [],
    groups: [],
    lines: null, // the thumbnails, once read (base64 WebP, one per line)
    drawn: 0, // how many groups are in the page
    current: -1, // the group j and k move from
    waiting: new Set(), // groups near the viewport before the thumbnails were read
    observer: null,
    dirty: false, // changed since the last download
    compare: null, // while the compare view is open: {group, file, from, mode, shown}
  };

  const $ = (id) => document.getElementById(id);

  // --- the data ---------------------------------------------------------------------------------

  /** The page's data, with size and mtimeNs as BigInt: their exact digits go back into the
      saved selection (mtimeNs is larger than 2^53, which a JSON number would round). */
  function readData() {
    const text = $("ikmeta-data").textContent;
    return JSON.parse(canReadSource() ? text : quoteExact(text), exactReviver);
  }

  function canReadSource() {
    let seen = false;
    JSON.parse("1", (key, value, context) => {
      seen = Boolean(context && context.source === "1");
      return value;
    });
    return seen;
  }

  /** For browsers without the reviver's source text: the exact fields' digits as strings (in
      JSON text a quote inside a string is escaped, so the pattern only meets real keys). */
  function quoteExact(text) {
    return text.replace(/"(size|mtimeNs)":(-?\d+)(?=[,}])/g, '"$1":"$2"');
  }

  function exactReviver(key, value, context) {
    if (!EXACT_FIELDS.has(key)) return value;
    if (typeof value === "number" && context && /^-?\d+$/.test(context.source)) {
      return BigInt(context.source);
    }
    if (typeof value === "string" && /^-?\d+$/.test(value)) return BigInt(value);
    if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
    return value;
  }

  function buildGroups(data) {
    return data.groups.map((group, index) => {
      const model = { index, all: [], files: [], section: null, cards: null, head: null, shown: false };
      model.all = group.files.map((entry, id) => fileModel(model, entry, id));
      model.files = model.all.slice();
      model.suggested = model.all[0];
      // A group of one solid colour: the report gives none of its files a distance.
      model.flat = model.all.every((file) => file.record.distance === null);
      return model;
    });
  }

  function fileModel(group, entry, id) {
    const record = entry.record;
    return {
      id,
      group,
      entry,
      record,
      distance: record.distance, // its pHash distance to the kept copy, null when not measured
      match: record.match || null, // how it matched the kept copy when not as it stands
      marked: id !== 0,
      card: null, // its elements, once drawn
      img: null,
      checkbox: null,
      badge: null,
    };
  }

  // --- words and numbers ------------------------------------------------------------------------

  /** 1234567 -> "1.2 MB": decimal units, as the command line writes them. */
  function humanSize(bytes) {
    let size = Number(bytes);
    for (const unit of ["B", "kB", "MB", "GB", "TB"]) {
      if (Math.abs(size) < 1000 || unit === "TB") {
        return unit === "B" ? `${Math.round(size)} B` : `${size.toFixed(1)} ${unit}`;
      }
      size /= 1000;
    }
    return `${size.toFixed(1)} TB`;
  }

  function plural(count, word) {
    return `${count.toLocaleString("en")} ${word}${count === 1 ? "" : "s"}`;
  }

  function isKept(file) {
    return file.group.files[0] === file;
  }

  function dimensions(record) {
    const size = record.width != null && record.height != null ? `${record.width}×${record.height}` : "size unknown";
    return record.duration != null ? `${size}, ${durationText(record.duration)}` : size;
  }

  /** A video's length: "8.8 s" under a minute, else "1:02:03" or "2:03". */
  function durationText(seconds) {
    if (seconds < 60) return `${seconds.toFixed(1)} s`;
    const whole = Math.round(seconds);
    const [hours, minutes, rest] = [Math.floor(whole / 3600), Math.floor(whole / 60) % 60, whole % 60];
    const two = (n) => String(n).padStart(2, "0");
    return hours ? `${hours}:${two(minutes)}:${two(rest)}` : `${minutes}:${two(rest)}`;
  }

  function formatName(record) {
    const name = record.format ? record.format.toUpperCase() : "unknown format";
    if (record.videoBitRate != null) return `${name}, ${record.videoBitRate.toLocaleString("en")} kbps`;
    return record.quality > 0 ? `${name}, quality ${record.quality}` : name;
  }

  function dateText(entry) {
    if (!entry.date) return "date unknown";
    return `${entry.dateKind === "taken" ? "taken" : "modified"} ${entry.date}`;
  }

  /** Why a file is in its group: how it compares with the kept copy, or, where the scan
      did not compare the two (a copy turned, framed or cropped another way than the kept
      one), with the suggested copy, said so. */
  function matchText(file) {
    const group = file.group;
    if (isKept(file)) return file === group.suggested ? "the suggested copy to keep" : "your copy to keep";
    if (group.flat) return "same solid colour";
    if (file.distance !== null) return relationText(file.distance, file.match);
    const record = file.record;
    if (file === group.suggested || isKept(group.suggested) || record.distance === null) {
      return `${file.match ? `${file.match}, ` : ""}pHash distance not measured`;
    }
    const turn = file.match ? `${file.match}; ` : ""; // how it is turned from the kept copy
    return `${turn}to the suggested copy: ${relationText(record.distance, record.match || null)}`;
  }

  /** "identical pHash", "pHash distance 3", "rotated 90, pHash distance 0" (the distance once
      turned back: the pHashes themselves differ). */
  function relationText(distance, match) {
    if (!match) return distance === 0 ? "identical pHash" : `pHash distance ${distance}`;
    return `${match}, pHash distance ${distance}`;
  }

  function sizeOf(file) {
    return typeof file.record.size === "bigint" ? file.record.size : 0n;
  }

  function splitPath(path) {
    const cut = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1;
    return [path.slice(0, cut), path.slice(cut)];
  }

  /** The Hamming distance of two 64-bit pHashes written as hex, or null. */
  function hamming(a, b) {
    if (!/^[0-9a-f]{1,16}$/i.test(a || "") || !/^[0-9a-f]{1,16}$/i.test(b || "")) return null;
    let bits = BigInt(`0x${a}`) ^ BigInt(`0x${b}`);
    let count = 0;
    while (bits) {
      count += Number(bits & 1n);
      bits >>= 1n;
    }
    return count;
  }

  /** How ``file`` compares with the ``kept`` copy, from what the scan measured against the
      suggested copy (the report's reference): {distance, match}, distance null where the two
      were not compared. Against the suggested copy, as the scan found; the suggested copy
      against another, the other way round (a copy "rotated 90" from it is where it is
      "rotated 270" from the copy); two copies that stand the same way (as they stand, or
      turned alike) by their pHashes' distance. Two copies turned differently are turned
      from each other as their turns compose, at a distance not measured (the report holds
      no turned pHashes); and copies framed, cropped or truncated were compared with the
      suggested copy alone. */
  function relate(file, kept) {
    const group = file.group;
    const suggested = group.suggested;
    if (group.flat) return { distance: null, match: kept === suggested ? file.record.match || null : null };
    if (file === kept) return { distance: 0, match: null };
    if (kept === suggested) return { distance: file.record.distance, match: file.record.match || null };
    if (file === suggested) {
      const back = reversed(kept.record.match || null);
      if (back !== undefined && kept.record.distance !== null) return { distance: kept.record.distance, match: back };
      return { distance: null, match: null };
    }
    const [mine, theirs] = [turnOf(file), turnOf(kept)];
    if (mine === null || theirs === null) return { distance: null, match: null };
    const turn = compose(mine, inverse(theirs)); // from the kept copy back to the suggested one, then to this one
    if (turn !== 0) return { distance: null, match: TURNS[turn] };
    return { distance: hamming(file.record.pHash, kept.record.pHash), match: null };
  }

  /** How a reference relates to a copy that matched it as ``match``; undefined when not known. */
  function reversed(match) {
    if (match === null) return null;
    return TURNS.includes(match) ? TURNS[inverse(TURNS.indexOf(match))] : REVERSED.get(match);
  }

  /** The turn that makes the suggested copy look like ``file`` (0 as it stands), null when
      it matched another way (framed, cropped, truncated...) or was not measured. */
  function turnOf(file) {
    if (file.record.distance === null) return null;
    const match = file.record.match || null;
    return match === null ? 0 : TURNS.includes(match) ? TURNS.indexOf(match) : null;
  }

  /** Turn ``b``, then turn ``a`` (each mirrored first, then turned clockwise): a mirror
      image turned clockwise is the picture turned anticlockwise, then mirrored. */
  function compose(a, b) {
    const mirrored = a >= 4;
    const quarters = ((a % 4) + (mirrored ? 4 - (b % 4) : b % 4)) % 4;
    return (mirrored !== b >= 4 ? 4 : 0) + quarters;
  }

  /** The turn that undoes turn ``k``. */
  function inverse(k) {
    return k >= 4 ? k : (4 - k) % 4;
  }

  // --- drawing ----------------------------------------------------------------------------------

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function drawHeader(data) {
    const origin = $("origin");
    const scan = data.origin && data.origin.scan;
    if (scan) {
      const named = [...(scan.paths || [])];
      if (scan.from != null) named.push(`the list ${scan.from}`);
      origin.append(scan.hashes != null ? "Grouped the hash list " : "Scanned ");
      if (scan.hashes != null) named.splice(0, named.length, scan.hashes);
      named.forEach((path, k) => {
        if (k) origin.append(", ");
        origin.append(el("b", "", path));
      });
      const options = [`--max ${scan.max}`, `--linkage ${scan.linkage}`];
      if (scan.hidden) options.push("--hidden");
      if (scan.geometry === "exact") options.push("--geometry exact");
      origin.append(` with ${options.join(" ")}`);
      if (scan.unreadable) origin.append(` (${plural(scan.unreadable, "file")} could not be read)`);
      origin.append(".");
      if (scan.scanned != null) {
        showScanned(scan.scanned - (scan.videos || 0), scan.videos || 0);
        $("stat-scanned").parentElement.hidden = false;
      }
    } else if (data.origin && data.origin.report != null) {
      origin.append("From report ", el("b", "", data.origin.report), ".");
    }
    $("footer").textContent = `Made by ikmeta ${data.version} on ${data.made}.`;
  }

  function drawGroup(group) {
    const section = el("section", "group");
    section.tabIndex = -1;
    section.dataset.group = String(group.index);
    const head = el("div", "group-head");
    const title = el("h2", "", `Group ${(group.index + 1).toLocaleString("en")}`);
    title.id = `group-${group.index}`;
    section.setAttribute("aria-labelledby", title.id);
    group.head = el("p");
    head.append(title, group.head);
    group.cards = el("ol", "cards");
    section.append(head, group.cards);
    group.section = section;
    drawCards(group);
    drawGroupHead(group);
    return section;
  }

  function drawCards(group) {
    group.cards.replaceChildren(...group.files.map(drawCard));
    if (group.shown) showThumbs(group);
  }

  function drawGroupHead(group) {
    const others = group.files.slice(1);
    const marked = others.filter((file) => file.marked);
    const freed = marked.reduce((sum, file) => sum + sizeOf(file), 0n);
    const words = [plural(group.files.length, "picture")];
    words.push(group.flat ? "same solid colour" : distanceRange(others));
    words.push(marked.length ? `${marked.length} marked, frees ${humanSize(freed)}` : "nothing marked");
    group.head.textContent = words.join(" · ");
  }

  /** The largest distance to the kept copy, and how many were not measured against it. */
  function distanceRange(files) {
    if (!files.length) return "nothing to compare";
    const measured = files.filter((file) => file.distance !== null);
    const unmeasured = files.length - measured.length;
    if (!measured.length) return "pHash distance to the kept copy not measured";
    const most = measured.reduce((high, file) => Math.max(high, file.distance), 0);
    let text = `pHash distance up to ${most}`;
    if (most === 0) text = measured.some((file) => file.match) ? "pHash distance 0" : "identical pHash";
    return unmeasured ? `${text} (${unmeasured} not measured against the kept copy)` : text;
  }

  function drawCard(file) {
    const record = file.record;
    const card = el("li", "card");
    card.tabIndex = 0;
    card.dataset.group = String(file.group.index);
    card.dataset.file = String(file.id);
    file.badge = el("span", "badge");
    const [dir, name] = splitPath(record.source);
    const path = el("p", "path");
    path.append(el("span", "dir", dir), el("wbr"), el("span", "name", name)); // a break before the name
    const facts = el("ul", "facts");
    facts.append(el("li", "", `${dimensions(record)} · ${humanSize(sizeOf(file))} · ${formatName(record)}`));
    facts.append(el("li", "", dateText(file.entry)));
    if (record.camera) facts.append(el("li", "", record.camera));
    facts.append(el("li", "why", matchText(file)));
    if (file === file.group.suggested && !isKept(file)) facts.append(el("li", "suggested", "the suggested copy"));
    if (record.damage) facts.append(el("li", "damage", `⚠ damaged: ${record.damage}`));
    const evidence = (record.why || []).filter((text) => text !== record.damage);
    if (evidence.length) facts.append(el("li", "evidence", evidence.join("; ")));
    if ((record.alsoAt || []).length) facts.append(el("li", "evidence", `also at ${record.alsoAt.join(", ")}`));
    card.append(file.badge, drawFrame(file), path, facts);
    if (file.entry.problem) card.append(el("p", "problem", `⚠ ${file.entry.problem}`));
    card.append(drawChoice(file));
    file.card = card;
    showMark(file);
    return card;
  }

  function drawFrame(file) {
    const frame = el("div", "frame");
    frame.title = "Compare with the kept copy (Enter)";
    if (file.entry.thumb == null) {
      frame.append(el("div", "placeholder", `No preview${file.entry.problem ? `: ${file.entry.problem}` : ""}`));
      file.img = null;
      return frame;
    }
    const img = el("img");
    img.alt = `Thumbnail of ${file.record.source}`;
    img.decoding = "async";
    if (file.entry.thumbWidth && file.entry.thumbHeight) {
      img.width = file.entry.thumbWidth;
      img.height = file.entry.thumbHeight;
    }
    img.addEventListener("error", () => img.replaceWith(el("div", "placeholder", "The preview cannot be shown")));
    frame.append(img);
    file.img = img;
    return frame;
  }

  function drawChoice(file) {
    const choice = el("div", "choose");
    if (isKept(file)) {
      file.checkbox = null;
      return choice;
    }
    const label = el("label");
    const box = el("input");
    box.type = "checkbox";
    box.className = "mark";
    box.setAttribute("aria-label", `Remove ${file.record.source}`);
    label.append(box, "Remove");
    const keep = el("button", "keep-this", "Keep this one");
    keep.type = "button";
    keep.setAttribute("aria-label", `Keep this one: ${file.record.source}`);
    choice.append(label, keep);
    file.checkbox = box;
    return choice;
  }

  /** A card's look for its state: the kept copy, marked for removal, or kept as well. */
  function showMark(file) {
    const kept = isKept(file);
    file.card.classList.toggle("kept", kept);
    file.card.classList.toggle("marked", !kept && file.marked);
    file.badge.className = `badge ${kept ? "keep" : file.marked ? "remove" : "also"}`;
    file.badge.textContent = kept ? "✓ Keep" : file.marked ? "To remove" : "Kept too";
    if (file.checkbox) file.checkbox.checked = file.marked;
  }

  function drawEmpty() {
    $("groups").append(el("p", "empty", "No near-duplicates: nothing to review."));
  }

  /** Draw groups up to ``end``; the first ones at once, the rest a chunk per task. */
  function drawUpTo(end) {
    const fragment = document.createDocumentFragment();
    const sections = [];
    for (; state.drawn < Math.min(end, state.groups.length); state.drawn++) {
      sections.push(drawGroup(state.groups[state.drawn]));
    }
    for (let start = 0; start < sections.length; start += GROUPS_PER_BLOCK) {
      fragment.append(drawBlock(sections.slice(start, start + GROUPS_PER_BLOCK)));
    }
    $("groups").append(fragment);
    for (const section of sections) state.observer.observe(section);
  }

  function drawBlock(sections) {
    const block = el("div", "block");
    block.style.containIntrinsicSize = `auto ${sections.length * GROUP_HEIGHT_REM}rem`;
    block.append(...sections);
    return block;
  }

  function drawRest() {
    drawUpTo(state.drawn + DRAWN_PER_TASK);
    if (state.drawn < state.groups.length) setTimeout(drawRest, 0);
    else markReady();
  }

  // --- thumbnails -------------------------------------------------------------------------------

  function readThumbs() {
    const node = $("ikmeta-thumbs");
    const text = node ? node.textContent : "";
    state.lines = (text.startsWith("\n") ? text.slice(1) : text).split("\n");
    if (node) node.textContent = ""; // the lines hold the only copy
    for (const group of state.waiting) showThumbs(group);
    state.waiting.clear();
    markReady();
  }

  /** Thumbnails get their source when their group comes within a screen of the viewport. */
  function onIntersect(entries) {
    for (const entry of entries) {
      const group = state.groups[Number(entry.target.dataset.group)];
      if (!entry.isIntersecting) {
        state.waiting.delete(group);
      } else if (state.lines) {
        showThumbs(group);
      } else {
        state.waiting.add(group);
      }
    }
  }

  function showThumbs(group) {
    group.shown = true;
    state.observer.unobserve(group.section);
    for (const file of group.files) {
      if (file.img && !file.img.src) file.img.src = thumbSource(file);
    }
  }

  function thumbSource(file) {
    const line = state.lines && file.entry.thumb != null ? state.lines[file.entry.thumb] : "";
    return line ? THUMB_TYPE + line : "";
  }

  /** Every group drawn and the thumbnails read (the mark bench/review.py times). */
  function markReady() {
    if (state.lines && state.drawn >= state.groups.length && !document.body.dataset.ready) {
      document.body.dataset.ready = "1";
      performance.mark("ikmeta-ready");
    }
  }

  // --- choosing ---------------------------------------------------------------------------------

  function fileOf(node) {
    const card = node && node.closest ? node.closest(".card") : null;
    if (!card) return null;
    return state.groups[Number(card.dataset.group)].all[Number(card.dataset.file)];
  }

  function setMarked(file, marked) {
    if (isKept(file) || file.marked === marked) return;
    file.marked = marked;
    state.dirty = true;
    showMark(file);
    drawGroupHead(file.group);
    showTotals();
    if (state.compare && state.compare.file === file) captionCompare();
    const [, name] = splitPath(file.record.source);
    announce(`${marked ? "Marked" : "Unmarked"} ${name}: ${$("stat-freed").textContent} freed.`);
  }

  /** Tell a screen reader what a key or a click did. */
  function announce(text) {
    $("status").textContent = text;
  }

  /** Make ``file`` its group's kept copy: it moves first, the copy kept so far takes its mark
      (marked for removal if the new one was, so that switching back restores every choice),
      and each file is compared with the new kept copy where the report allows (relate). */
  function keep(file) {
    const group = file.group;
    const previous = group.files[0];
    if (file === previous) return;
    const wasMarked = file.marked;
    group.files = [file, ...group.files.filter((other) => other !== file)];
    previous.marked = wasMarked;
    file.marked = false;
    for (const member of group.files) Object.assign(member, relate(member, file));
    state.dirty = true;
    drawCards(group);
    drawGroupHead(group);
    showTotals();
    file.card.focus();
    const now = previous.marked ? "is marked for removal" : "is kept too";
    announce(`Keeping ${splitPath(file.record.source)[1]}; ${splitPath(previous.record.source)[1]} ${now}.`);
  }

  function showTotals() {
    let duplicates = 0;
    let marked = 0;
    let freed = 0n;
    for (const group of state.groups) {
      duplicates += group.files.length - 1;
      for (const file of group.files) {
        if (file.marked) {
          marked += 1;
          freed += sizeOf(file);
        }
      }
    }
    showCount("stat-groups", state.groups.length, "group");
    showCount("stat-duplicates", duplicates, "duplicate");
    $("stat-marked").textContent = marked.toLocaleString("en");
    const total = $("stat-freed");
    total.textContent = humanSize(freed);
    total.dataset.bytes = freed.toString();
    total.title = `${freed.toLocaleString("en")} bytes`;
  }

  /** "3 images scanned", "3 images and 2 videos scanned", "2 videos scanned". */
  function showScanned(images, videos) {
    if (!videos) return showCount("stat-scanned", images, "image", " scanned");
    const counted = videos.toLocaleString("en");
    $("stat-scanned").textContent = images ? `${plural(images, "image")} and ${counted}` : counted;
    $("stat-scanned-word").textContent = `video${videos === 1 ? "" : "s"} scanned`;
  }

  /** A count in the bar and its noun, singular for one: "1 group", "2 groups". */
  function showCount(id, count, noun, after = "") {
    $(id).textContent = count.toLocaleString("en");
    $(`${id}-word`).textContent = `${noun}${count === 1 ? "" : "s"}${after}`;
  }

  // --- the selection ----------------------------------------------------------------------------

  /** The report to save: per group the kept copy's record, then the files still marked (a
      group left with its kept copy alone is dropped), laid out as `dupes --json` does. */
  function selectionText() {
    const groups = [];
    for (const group of state.groups) {
      const chosen = group.files.filter((file, k) => k === 0 || file.marked);
      if (chosen.length > 1) groups.push(groupText(chosen));
    }
    return groups.length ? `[\n${groups.join(",\n")}\n]\n` : "[]\n";
  }

  /** A group as `dupes --json` writes it, and "chosen": its kept copy is the user's choice
      (so `ikmeta apply --keep` cannot override it). */
  function groupText(files) {
    const lines = files.map((file) => `      ${recordText(file)}`);
    const reference = JSON.stringify(sourceOf(files[0]));
    return `  {\n    "reference": ${reference},\n    "chosen": true,\n    "files": [\n${lines.join(",\n")}\n    ]\n  }`;
  }

  /** Where the file is: its absolute path (the selection works from any folder), else as recorded. */
  function sourceOf(file) {
    return file.entry.path || file.record.source;
  }

  /** A file's object in the selection: as recorded, but its distance and match to the kept
      copy (null where not measured) and its path; its time as a string of digits, as
      reports write it (a JSON tool reading numbers as doubles would round it). */
  function recordText(file) {
    const pairs = state.fields.map((key) => {
      let value = file.record[key];
      if (key === "distance") value = file.distance;
      else if (key === "match") value = file.match;
      else if (key === "source") value = sourceOf(file);
      else if (key === "mtimeNs" && typeof value === "bigint") value = value.toString();
      return `${JSON.stringify(key)}: ${valueText(value)}`;
    });
    return `{${pairs.join(", ")}}`;
  }

  function valueText(value) {
    if (typeof value === "bigint") return value.toString();
    return JSON.stringify(value === undefined ? null : value);
  }

  /** selection-2026-11-30-142501.json: a new name each time, so the browser never renames it. */
  function selectionName() {
    const now = new Date();
    const two = (n) => String(n).padStart(2, "0");
    const day = `${now.getFullYear()}-${two(now.getMonth() + 1)}-${two(now.getDate())}`;
    return `selection-${day}-${two(now.getHours())}${two(now.getMinutes())}${two(now.getSeconds())}.json`;
  }

  function download() {
    const text = selectionText();
    const name = selectionName();
    const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    const link = el("a");
    link.href = url;
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    state.dirty = false;
    const files = state.groups.reduce((n, g) => n + g.files.filter((f) => f.marked).length, 0);
    const saved = $("saved");
    saved.replaceChildren(
      `Saved ${name} (${plural(files, "file")} to remove) to your downloads. See the plan with `,
      el("code", "", `ikmeta apply trash ${name}`),
      ", then add ",
      el("code", "", "--yes"),
      " to do it.",
    );
    saved.hidden = false;
    announce(saved.textContent);
  }

  // --- the compare view -------------------------------------------------------------------------

  function openCompare(file) {
    const group = file.group;
    const other = isKept(file) ? group.files[1] : file;
    if (!other) return;
    state.compare = { group, file: other, from: file.card, mode: "side", shown: "kept" };
    $("compare-title").textContent = `Compare: group ${(group.index + 1).toLocaleString("en")}`;
    loadFull("kept", group.files[0]);
    loadFull("other", other);
    captionCompare();
    showCompareMode();
    $("compare").showModal();
  }

  /** The thumbnail at once, then the whole picture when the page was opened from a file (the
      browser may load file: URLs) and the file decodes here (HEIC and TIFF do not in most
      browsers). Which of the two is shown is written on it: a thumbnail stretched to the
      size of a whole picture looks blurred beside it. */
  function loadFull(side, file) {
    const img = $(`compare-${side}`);
    const label = $(`shown-${side}`);
    const thumb = thumbSource(file);
    const url = file.entry.url || "";
    const who = isKept(file) ? "The kept copy" : "The other copy";
    img.dataset.url = url;
    if (thumb) img.src = thumb;
    else img.removeAttribute("src");
    const shown = (kind, text, alt) => {
      label.dataset.kind = kind;
      label.textContent = text;
      img.alt = `${who}${alt}: ${file.record.source}`;
    };
    const small = thumbnailText(file);
    if (!thumb) {
      shown("none", `No preview${file.entry.problem ? `: ${file.entry.problem}` : ""}`, "");
      return;
    }
    const why = file.record.duration != null ? "a video: its key frame nearest before the middle" : unreadable(url);
    if (why) {
      shown("thumbnail", `${small}: ${why}`, " (thumbnail)");
      return;
    }
    shown("thumbnail", `${small}, loading the whole picture…`, " (thumbnail)");
    const whole = new Image();
    const current = () => $("compare").open && img.dataset.url === url && label.dataset.kind === "thumbnail";
    whole.addEventListener("load", () => {
      if (!current()) return;
      img.src = url;
      shown("full", `Whole picture, ${whole.naturalWidth}×${whole.naturalHeight} px`, "");
    });
    whole.addEventListener("error", () => {
      if (current()) shown("thumbnail", `${small}: ${cannotShow(file)}`, " (thumbnail)");
    });
    whole.src = url;
  }

  function thumbnailText(file) {
    const { thumbWidth: width, thumbHeight: height } = file.entry;
    return width && height ? `Thumbnail, ${width}×${height} px` : "Thumbnail";
  }

  /** Why the page cannot read the file at ``url`` whole, before trying; null when it may. */
  function unreadable(url) {
    if (!url) return "the file cannot be read again";
    if (!/^file:/i.test(url)) return "the page loads nothing from the network";
    if (location.protocol !== "file:") return "the page reads the files only when opened from a file";
    return null;
  }

  /** Why the browser did not show a file it tried: its format, else the file itself. */
  function cannotShow(file) {
    const format = (file.record.format || "").toLowerCase();
    if (format && !SHOWN_FORMATS.has(format)) return `this browser cannot show ${format.toUpperCase()}`;
    return file.entry.problem || "the file could not be read";
  }

  function captionCompare() {
    const { group, file } = state.compare;
    caption($("pane-kept").querySelector("figcaption"), group.files[0], "Kept");
    caption($("pane-other").querySelector("figcaption"), file, file.marked ? "To remove" : "Kept too");
  }

  function caption(node, file, role) {
    const record = file.record;
    const facts = [dimensions(record), humanSize(sizeOf(file)), formatName(record), dateText(file.entry)];
    if (!isKept(file)) facts.push(matchText(file));
    if (record.damage) facts.push(`damaged: ${record.damage}`);
    if ((record.why || []).length) facts.push(record.why.join("; "));
    node.replaceChildren(el("b", "", role), " ", el("span", "", record.source), el("br"), facts.join(" · "));
  }

  function showCompareMode() {
    const view = state.compare;
    const stage = $("stage");
    stage.dataset.mode = view.mode;
    stage.dataset.shown = view.shown;
    $("mode-side").setAttribute("aria-pressed", String(view.mode === "side"));
    $("mode-flip").setAttribute("aria-pressed", String(view.mode === "flip"));
    const shown = view.shown === "kept" ? "the kept copy" : "the other copy";
    $("flip-state").textContent =
      view.mode === "flip"
        ? `Showing ${shown}. Press f to flip.`
        : "The kept copy and the other copy at the same size. Press f to flip between them.";
  }

  /** f: show the other of the two (the first press turns side by side into a flip). */
  function flip() {
    const view = state.compare;
    if (view.mode === "flip") view.shown = view.shown === "kept" ? "other" : "kept";
    view.mode = "flip";
    showCompareMode();
  }

  function onCompareClosed() {
    const view = state.compare;
    state.compare = null;
    for (const side of ["kept", "other"]) {
      delete $(`compare-${side}`).dataset.url;
      $(`compare-${side}`).removeAttribute("src");
      delete $(`shown-${side}`).dataset.kind;
      $(`shown-${side}`).textContent = "";
    }
    if (view && view.from && view.from.isConnected) view.from.focus();
    else if (view) view.file.card.focus();
  }

  // --- the keyboard -----------------------------------------------------------------------------

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing || event.defaultPrevented) return;
    let handled = false;
    if ($("compare").open) handled = compareKey(event.key);
    else if (!$("keys").open) handled = pageKey(event.key, event.target);
    if (handled) event.preventDefault();
  }

  function pageKey(pressed, target) {
    const key = pressed.length === 1 ? pressed.toLowerCase() : pressed; // Caps Lock on
    if (key === "?") $("keys").showModal();
    else if (key === "j") moveGroup(1);
    else if (key === "k") moveGroup(-1);
    else if (key === "x") toggleChosen();
    else if (key === "Enter" && target.matches && target.matches(".card")) openCompare(fileOf(target));
    else if (key === "Enter" && target.matches && target.matches(".group")) {
      openCompare(state.groups[Number(target.dataset.group)].files[0]);
    } else return false;
    return true;
  }

  function compareKey(key) {
    if (key === "f" || key === "F") flip();
    else if (key === "x" || key === "X") setMarked(state.compare.file, !state.compare.file.marked);
    else return false;
    return true;
  }

  /** j and k: from the current group when it is on screen, else from the first one shown. */
  function moveGroup(step) {
    if (!state.groups.length) return;
    const current = state.current >= 0 ? state.groups[state.current].section : null;
    const onScreen = current && isOnScreen(current);
    const from = onScreen ? state.current + step : firstOnScreen();
    setCurrent(Math.min(Math.max(from, 0), state.groups.length - 1));
    const section = state.groups[state.current].section;
    section.focus({ preventScroll: true });
    section.scrollIntoView({ block: "start" });
  }

  function isOnScreen(node) {
    const box = node.getBoundingClientRect();
    return box.bottom > $("bar").offsetHeight && box.top < window.innerHeight;
  }

  /** The first drawn group whose bottom is below the selection bar (the groups are in page order). */
  function firstOnScreen() {
    const top = $("bar").offsetHeight;
    let low = 0;
    let high = state.drawn - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (state.groups[middle].section.getBoundingClientRect().bottom > top) high = middle;
      else low = middle + 1;
    }
    return low;
  }

  function setCurrent(index) {
    if (index >= state.drawn) drawUpTo(index + 1);
    if (state.current >= 0) state.groups[state.current].section.classList.remove("current");
    state.current = index;
    state.groups[index].section.classList.add("current");
  }

  /** x: the focused card, else (no card focused) the current group's first file that may be
      removed; on the kept copy itself it does nothing but say so. */
  function toggleChosen() {
    let file = fileOf(document.activeElement);
    if (file && isKept(file)) {
      announce("This is the copy to keep: choose another one to keep first (Keep this one).");
      return;
    }
    if (!file) {
      const group = state.groups[state.current];
      file = group ? group.files[1] : null;
    }
    if (file) setMarked(file, !file.marked);
  }

  // --- wiring -----------------------------------------------------------------------------------

  function onGroupsClick(event) {
    const file = fileOf(event.target);
    if (!file) return;
    if (event.target.closest(".keep-this")) keep(file);
    else if (event.target.closest(".frame")) openCompare(file);
  }

  function onGroupsChange(event) {
    const file = fileOf(event.target);
    if (file && event.target.classList.contains("mark")) setMarked(file, event.target.checked);
  }

  function onGroupsFocus(event) {
    const section = event.target.closest ? event.target.closest(".group") : null;
    if (section) setCurrent(Number(section.dataset.group));
  }

  /** A click on the backdrop, outside the dialog's box, closes it. */
  function closeOnBackdrop(event) {
    const dialog = event.currentTarget;
    if (event.target !== dialog) return;
    const box = dialog.getBoundingClientRect();
    const inside =
      event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom;
    if (!inside) dialog.close();
  }

  function wire() {
    const groups = $("groups");
    groups.addEventListener("click", onGroupsClick);
    groups.addEventListener("change", onGroupsChange);
    groups.addEventListener("focusin", onGroupsFocus);
    document.addEventListener("keydown", onKey);
    $("download").addEventListener("click", download);
    $("show-keys").addEventListener("click", () => $("keys").showModal());
    $("keys-close").addEventListener("click", () => $("keys").close());
    $("compare-close").addEventListener("click", () => $("compare").close());
    $("mode-side").addEventListener("click", () => {
      state.compare.mode = "side";
      showCompareMode();
    });
    $("mode-flip").addEventListener("click", flip);
    $("compare").addEventListener("close", onCompareClosed);
    $("compare").addEventListener("click", closeOnBackdrop);
    $("keys").addEventListener("click", closeOnBackdrop);
    window.addEventListener("beforeunload", (event) => {
      if (state.dirty) event.preventDefault();
    });
    new ResizeObserver(followBarHeight).observe($("bar"));
  }

  /** A group scrolled to starts below the sticky selection bar, however tall it wraps. */
  function followBarHeight() {
    document.documentElement.style.setProperty("--bar-height", `${$("bar").offsetHeight}px`);
  }

  function start() {
    const data = readData();
    state.fields = data.fields;
    state.groups = buildGroups(data);
    state.observer = new IntersectionObserver(onIntersect, { rootMargin: "100% 0px" });
    wire();
    drawHeader(data);
    showTotals();
    if (!state.groups.length) drawEmpty();
    drawUpTo(FIRST_DRAWN);
    performance.mark("ikmeta-first-groups");
    if (state.drawn < state.groups.length) setTimeout(drawRest, 0);
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", readThumbs);
    else readThumbs();
  }

  start();
})();
