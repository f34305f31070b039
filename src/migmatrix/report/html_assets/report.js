// The interactive half of the migmatrix HTML report: reads the JSON blob written by
// html_.py, draws the grid, and lists the results of the selected cell.
// Every piece of data reaches the page through textContent or setAttribute, never
// through markup, so a test name that looks like a tag is shown as the text it is.
(function () {
  "use strict";

  var D = JSON.parse(document.getElementById("data").textContent);
  var S = D.strings, TESTS = D.tests, AX = D.axes, VERD = D.verdicts, OUTC = D.outcomes;
  var KINDS = D.kinds, CELLS = D.cells, R = D.results, MARKS = D.marks;
  var N = R.k.length;
  var PAGE = D.page_size;
  var MARK = { ok: "\u2713", warn: "!", bad: "\u2717" };

  // Undo the delta coding of test indices and remember each result's cell.
  var testOf = new Int32Array(N);
  var cellOf = new Int32Array(N);
  CELLS.forEach(function (c, ci) {
    var prev = 0;
    for (var i = c.s; i < c.s + c.n; i++) {
      prev += R.t[i];
      testOf[i] = prev;
      cellOf[i] = ci;
    }
  });
  var kindUnexpected = KINDS.map(function (k) { return VERD[k[2]].unexpected; });

  // Cells grouped by (phase, adapter, env); the python axis is chosen by the selector.
  var groups = {};
  CELLS.forEach(function (c, ci) {
    var key = c.p + "," + c.a + "," + c.e;
    (groups[key] = groups[key] || []).push(ci);
  });

  var state = { py: -1, phase: -1, adapter: -1, env: -1, unexpected: false, q: "", sel: null, page: 0 };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function fmtInt(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  // ------------------------------------------------------------------ filters

  var testHit = null, strHit = null;

  function computeSearch() {
    var q = state.q.toLowerCase();
    if (!q) { testHit = strHit = null; return; }
    testHit = new Uint8Array(TESTS.length);
    for (var i = 0; i < TESTS.length; i++) testHit[i] = TESTS[i].toLowerCase().indexOf(q) >= 0 ? 1 : 0;
    // Message and detail columns store string index + 1 (0 = none).
    strHit = new Uint8Array(S.length + 1);
    for (var j = 0; j < S.length; j++) strHit[j + 1] = S[j].toLowerCase().indexOf(q) >= 0 ? 1 : 0;
  }

  function resultFilterActive() { return state.unexpected || !!state.q; }

  function resultShown(i) {
    if (state.unexpected && !kindUnexpected[R.k[i]]) return false;
    if (testHit && !(testHit[testOf[i]] || strHit[R.m[i]] || strHit[R.x[i]])) return false;
    return true;
  }

  function cellShown(c) {
    return (state.py < 0 || c.y === state.py) && (state.phase < 0 || c.p === state.phase) &&
      (state.adapter < 0 || c.a === state.adapter) && (state.env < 0 || c.e === state.env);
  }

  // ------------------------------------------------------------------ controls

  function select(id, label, values, allText, key) {
    var wrap = el("label", null, label + " ");
    var s = el("select");
    s.id = id;
    var o = el("option", null, allText);
    o.value = "-1";
    s.appendChild(o);
    values.forEach(function (v, i) {
      var opt = el("option", null, v);
      opt.value = String(i);
      s.appendChild(opt);
    });
    s.addEventListener("change", function () {
      state[key] = parseInt(s.value, 10);
      state.page = 0;
      if (state.sel && !groupVisible(state.sel)) state.sel = null;
      render();
    });
    wrap.appendChild(s);
    return wrap;
  }

  function buildControls() {
    var box = document.getElementById("controls");
    var pys = AX.python.map(function (p) { return "Python " + p; });
    box.appendChild(select("f-python", "Python:", pys, "all Pythons", "py"));
    box.appendChild(select("f-phase", "Phase:", AX.phase, "all", "phase"));
    box.appendChild(select("f-adapter", "State:", AX.adapter, "all", "adapter"));
    box.appendChild(select("f-env", "Env:", AX.env, "all", "env"));

    var ul = el("label");
    var cb = el("input");
    cb.type = "checkbox";
    cb.id = "f-unexpected";
    cb.addEventListener("change", function () { state.unexpected = cb.checked; state.page = 0; render(); });
    ul.appendChild(cb);
    ul.appendChild(document.createTextNode(" only unexpected"));
    box.appendChild(ul);

    var sl = el("label", null, "Search: ");
    var q = el("input");
    q.type = "search";
    q.id = "f-search";
    q.placeholder = "test id or message";
    var timer = null;
    q.addEventListener("input", function () {
      if (timer) clearTimeout(timer);
      timer = setTimeout(function () {
        state.q = q.value.trim();
        state.page = 0;
        computeSearch();
        render();
      }, 120);
    });
    sl.appendChild(q);
    box.appendChild(sl);

    var clear = el("button", null, "show all cells");
    clear.type = "button";
    clear.id = "clear-sel";
    clear.addEventListener("click", function () { state.sel = null; state.page = 0; render(); });
    box.appendChild(clear);
  }

  // ------------------------------------------------------------------ grid
  //
  // The grid is the migration map, drawn as html_map.py draws it (same table id,
  // classes and marks): a row per adapter state in rollout order, a column per env
  // inside each phase, a flip from the nearest planned state above marked. Each
  // position merges the marks of its cells over the Pythons shown; where they
  // differ it shows the one that most needs a look, and a star.

  var NOT_PLANNED = 0;
  MARKS.forEach(function (m, i) { if (m.cls === "m-not-planned") NOT_PLANNED = i; });
  // A phase's envs and the states with any cell: the map's columns and rows.
  var phaseEnv = {}, adapterSeen = {};
  CELLS.forEach(function (c) { phaseEnv[c.p + "," + c.e] = true; adapterSeen[c.a] = true; });

  function groupVisible(key) {
    var ids = groups[key] || [];
    for (var i = 0; i < ids.length; i++) if (cellShown(CELLS[ids[i]])) return true;
    return false;
  }

  function shownPerCell() {
    // How many results of each cell pass the result-level filters (null = all of them).
    if (!resultFilterActive()) return null;
    var counts = new Int32Array(CELLS.length);
    for (var i = 0; i < N; i++) if (resultShown(i)) counts[cellOf[i]]++;
    return counts;
  }

  function axisIndices(values, chosen) {
    var out = [];
    for (var i = 0; i < values.length; i++) if (chosen < 0 || chosen === i) out.push(i);
    return out;
  }

  function renderGrid(shown) {
    var host = document.getElementById("grid");
    host.textContent = "";
    var cols = [];
    axisIndices(AX.phase, state.phase).forEach(function (p) {
      var envs = axisIndices(AX.env, state.env).filter(function (e) { return phaseEnv[p + "," + e]; });
      if (envs.length) cols.push({ p: p, envs: envs });
    });
    var rows = axisIndices(AX.adapter, state.adapter).filter(function (a) { return adapterSeen[a]; });
    if (!cols.length || !rows.length) {
      host.appendChild(el("p", "empty", "no results"));
      return;
    }
    var table = el("table", "map");
    table.id = "map-table";
    var thead = el("thead");
    var r1 = el("tr"), r2 = el("tr");
    var corner = el("th", null, "state");
    corner.rowSpan = 2;
    r1.appendChild(corner);
    cols.forEach(function (col) {
      var th = el("th", "ph", AX.phase[col.p]);
      th.colSpan = col.envs.length;
      r1.appendChild(th);
      col.envs.forEach(function (e, i) {
        var h = el("th", i ? "env" : "env p0", D.env_labels[e]);
        h.title = AX.env[e];
        r2.appendChild(h);
      });
    });
    thead.appendChild(r1);
    thead.appendChild(r2);
    table.appendChild(thead);

    var tbody = el("tbody");
    var above = null;
    rows.forEach(function (a) {
      var tr = el("tr");
      tr.appendChild(el("th", "state", AX.adapter[a]));
      var marks = [];
      cols.forEach(function (col) {
        col.envs.forEach(function (e, i) {
          var at = marks.length;
          var td = mapCell(col.p, a, e, shown, i === 0, above ? above[at] : -1, marks);
          tr.appendChild(td);
        });
      });
      tbody.appendChild(tr);
      // The last planned mark of each column, as html_map.py tells a flip.
      above = marks.map(function (mk, at) {
        return mk === NOT_PLANNED && above ? above[at] : mk;
      });
    });
    table.appendChild(tbody);
    host.appendChild(table);
  }

  function mapCell(p, a, e, shown, first, markAbove, marks) {
    var key = p + "," + a + "," + e;
    var ids = (groups[key] || []).filter(function (ci) { return cellShown(CELLS[ci]); });
    var td = el("td");
    td.setAttribute("data-phase", AX.phase[p]);
    td.setAttribute("data-adapter", AX.adapter[a]);
    td.setAttribute("data-env", AX.env[e]);
    var where = AX.adapter[a] + " \u00b7 " + AX.phase[p] + "/" + AX.env[e] + ": ";
    var mk = NOT_PLANNED, mixed = false, perPython = [];
    ids.forEach(function (ci, n) {
      var c = CELLS[ci];
      if (n === 0) mk = c.mk;
      else if (c.mk !== CELLS[ids[0]].mk) mixed = true;
      if (MARKS[c.mk].rank < MARKS[mk].rank) mk = c.mk;
      perPython.push("py" + AX.python[c.y] + ": " + MARKS[c.mk].name);
    });
    marks.push(mk);
    var classes = [MARKS[mk].cls];
    if (first) classes.push("p0");
    if (markAbove >= 0 && markAbove !== mk && markAbove !== NOT_PLANNED && mk !== NOT_PLANNED) {
      classes.push("flip");
    }
    if (!ids.length) {
      td.className = classes.join(" ");
      td.textContent = MARKS[mk].sym;
      td.title = where + MARKS[mk].name;
      return td;
    }
    var total = 0, matched = 0;
    var byVerdict = VERD.map(function () { return 0; });
    ids.forEach(function (ci) {
      var c = CELLS[ci];
      total += c.n;
      matched += shown ? shown[ci] : c.n;
      c.vc.forEach(function (n, v) { byVerdict[v] += n; });
    });
    if (mixed) classes.push("mixed");
    if (shown && !matched) classes.push("dim");
    if (state.sel === key) classes.push("sel");
    td.className = classes.join(" ");
    var b = el("button", null, MARKS[mk].sym);
    b.type = "button";
    b.setAttribute("data-key", key);
    b.setAttribute("aria-pressed", state.sel === key ? "true" : "false");
    if (mixed) b.appendChild(el("sup", null, "*"));
    var tip = [where + MARKS[mk].name + (mixed ? " (the Pythons differ)" : "")];
    if (mixed) tip = tip.concat(perPython);
    byVerdict.forEach(function (n, v) { if (n) tip.push(VERD[v].name + ": " + fmtInt(n)); });
    if (shown) tip.push(fmtInt(matched) + " of " + fmtInt(total) + " shown");
    b.title = tip.join("\n");
    b.setAttribute("aria-label", tip[0]);
    b.addEventListener("click", function () {
      state.sel = state.sel === key ? null : key;
      state.page = 0;
      render();
    });
    td.appendChild(b);
    return td;
  }

  // ------------------------------------------------------------------ list

  function listedResults() {
    var out = [];
    var sel = state.sel ? groups[state.sel] : null;
    var cells = sel || CELLS.map(function (_, ci) { return ci; });
    cells.forEach(function (ci) {
      var c = CELLS[ci];
      if (!cellShown(c)) return;
      for (var i = c.s; i < c.s + c.n; i++) if (resultShown(i)) out.push(i);
    });
    return out;
  }

  function messageCell(i, kind) {
    var td = el("td", "msg");
    if (R.x[i]) td.appendChild(el("span", "why", S[R.x[i] - 1]));
    if (kind[4] >= 0) td.appendChild(el("span", "note", S[kind[4]]));
    if (R.m[i]) {
      var text = S[R.m[i] - 1];
      if (kind[3] >= 0) text = S[kind[3]] + ": " + text;
      var first = text.split("\n", 1)[0];
      if (first.length > 160) first = first.slice(0, 160) + "\u2026";
      if (first === text) {
        td.appendChild(el("pre", null, text));
      } else {
        var det = el("details");
        det.appendChild(el("summary", null, first));
        det.appendChild(el("pre", null, text));
        td.appendChild(det);
      }
    }
    return td;
  }

  function renderList() {
    var host = document.getElementById("list");
    host.textContent = "";
    var rows = listedResults();
    var pages = Math.max(1, Math.ceil(rows.length / PAGE));
    if (state.page >= pages) state.page = pages - 1;
    var from = state.page * PAGE, to = Math.min(rows.length, from + PAGE);

    var where = "all cells";
    if (state.sel) {
      var parts = state.sel.split(",");
      where = AX.phase[+parts[0]] + " / " + AX.adapter[+parts[1]] + " / " + AX.env[+parts[2]];
    }
    var py = state.py < 0 ? "all Pythons" : "Python " + AX.python[state.py];
    var status = el("p", null, rows.length
      ? "Results " + fmtInt(from + 1) + "\u2013" + fmtInt(to) + " of " + fmtInt(rows.length) + " in " + where + " (" + py + ")"
      : "No results in " + where + " (" + py + ") match the filters.");
    status.id = "list-status";
    host.appendChild(status);

    var pager = el("div", "pager");
    var prev = el("button", null, "\u2190 previous");
    prev.type = "button";
    prev.id = "page-prev";
    prev.disabled = state.page === 0;
    prev.addEventListener("click", function () { state.page--; renderList(); });
    var next = el("button", null, "next \u2192");
    next.type = "button";
    next.id = "page-next";
    next.disabled = state.page >= pages - 1;
    next.addEventListener("click", function () { state.page++; renderList(); });
    pager.appendChild(prev);
    pager.appendChild(el("span", null, "page " + (state.page + 1) + " of " + pages));
    pager.appendChild(next);
    host.appendChild(pager);
    if (!rows.length) return;

    var table = el("table");
    var head = el("tr");
    ["cell", "test", "expected", "outcome", "verdict", "duration", "message"].forEach(function (h) {
      head.appendChild(el("th", null, h));
    });
    var thead = el("thead");
    thead.appendChild(head);
    table.appendChild(thead);
    var tbody = el("tbody");
    for (var r = from; r < to; r++) {
      var i = rows[r];
      var kind = KINDS[R.k[i]];
      var v = VERD[kind[2]];
      var tr = el("tr");
      tr.className = "row " + v.cls;
      tr.appendChild(el("td", "cellid", CELLS[cellOf[i]].id));
      tr.appendChild(el("td", "test", TESTS[testOf[i]]));
      tr.appendChild(el("td", "expected", S[kind[0]]));
      tr.appendChild(el("td", "outcome", kind[1] < 0 ? "(no result)" : OUTC[kind[1]]));
      tr.appendChild(el("td", "verdict", MARK[v.cls] + " " + v.name));
      tr.appendChild(el("td", "dur", kind[1] < 0 ? "" : (R.d[i] / 1000).toFixed(3) + " s"));
      tr.appendChild(messageCell(i, kind));
      tbody.appendChild(tr);
    }
    table.appendChild(tbody);
    host.appendChild(table);
  }

  function render() {
    renderGrid(shownPerCell());
    renderList();
  }

  buildControls();
  render();
  document.body.setAttribute("data-ready", "1");
})();
