// The dashboard's browser code. It is plain JavaScript (no build step) and self-contained:
// dashboard.ts serves this function's own source text, called with the global `uPlot`, as
// /dashboard/app.js. Everything it shows comes from GET /live (components and analysis
// events) and GET /stats, with the token from the page's #token= fragment.

/**
 * Runs the dashboard in the page `dashboard.ts` serves.
 *
 * @param {unknown} uPlot The uPlot constructor (the vendored dist/uPlot.iife.min.js).
 */
export function dashboard(uPlot) {
  const HISTORY = 300; // Points kept per component: five minutes at one snapshot a second.
  const LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "CRITICAL", "NOTSET"];
  const COLORS = [
    "#2f6fdf",
    "#e0542e",
    "#2a9d5c",
    "#a348c9",
    "#d49a00",
    "#1b9fb3",
    "#c2377a",
    "#6b7a8f",
  ];
  const TOKEN_KEY = "sluice-dashboard-token";

  const byId = (id) => document.getElementById(id);
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined) continue;
      if (key === "class") node.className = value;
      else node.setAttribute(key, String(value));
    }
    for (const child of children) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child ?? "")));
    }
    return node;
  };
  const int = (n) => (n === undefined ? "" : Math.round(n).toLocaleString("en-US"));
  const rate = (n) => (n === undefined ? "–" : n < 10 ? n.toFixed(1) : int(n));

  // The token: from #token=… (kept off the server's logs and out of Referer), then this
  // tab's session storage; the fragment is removed from the address bar once read.
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.has("token")) {
    sessionStorage.setItem(TOKEN_KEY, fragment.get("token") ?? "");
    history.replaceState(null, "", location.pathname + location.search);
  }
  const headers = () => {
    const token = sessionStorage.getItem(TOKEN_KEY);
    return token ? { authorization: `Bearer ${token}` } : {};
  };

  const status = byId("status");
  const setStatus = (state, text) => {
    status.dataset.state = state;
    status.textContent = text;
  };

  byId("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, byId("token-input").value);
    byId("token-form").hidden = true;
    reconnect(0);
  });
  const unauthorized = () => {
    setStatus("unauthorized", "A valid token is required");
    byId("token-form").hidden = false;
  };

  // Throughput: records in per second of each component, one uPlot series each.
  let chart;
  let chartIds = "";
  const times = [];
  const series = new Map();
  const chartSize = () => ({
    width: Math.max(320, byId("chart").clientWidth),
    height: 260,
  });
  const drawChart = (components) => {
    const ids = components.map((c) => c.id);
    if (ids.join("\n") !== chartIds) {
      chartIds = ids.join("\n");
      chart?.destroy();
      times.length = 0;
      series.clear();
      for (const id of ids) series.set(id, []);
      chart = new uPlot(
        {
          ...chartSize(),
          scales: { x: { time: true } },
          axes: [{}, { label: "records/s", size: 60 }],
          series: [
            {},
            ...components.map((c, i) => ({
              label: `${c.id} (${c.kind})`,
              stroke: COLORS[i % COLORS.length],
              width: 2,
              value: (_, v) => (v === null || v === undefined ? "–" : rate(v)),
            })),
          ],
        },
        [[]],
        byId("chart"),
      );
    }
    return chart;
  };
  const addPoint = (time, components) => {
    if (!components.some((c) => c.in_per_sec !== undefined)) return;
    const plot = drawChart(components);
    times.push(time / 1000);
    for (const c of components) series.get(c.id).push(c.in_per_sec ?? null);
    if (times.length > HISTORY) {
      times.shift();
      for (const values of series.values()) values.shift();
    }
    plot.setData([times, ...components.map((c) => series.get(c.id))]);
  };
  addEventListener("resize", () => chart?.setSize(chartSize()));

  const renderComponents = (components) => {
    const rows = components.map((c) => {
      const health = c.problem ?? "ok";
      return el(
        "tr",
        { "data-component": c.id },
        el("td", {}, c.id),
        el("td", {}, c.kind),
        el("td", { class: "num", "data-stat": "in_per_sec" }, rate(c.in_per_sec)),
        el("td", { class: "num", "data-stat": "out_per_sec" }, rate(c.out_per_sec)),
        el("td", { class: "num", "data-stat": "dropped_per_sec" }, rate(c.dropped_per_sec)),
        el("td", { class: "num", "data-stat": "records_in" }, int(c.records_in)),
        el("td", { class: "num", "data-stat": "records_out" }, int(c.records_out)),
        el("td", { class: "num", "data-stat": "records_dropped" }, int(c.records_dropped)),
        el("td", { class: "num", "data-stat": "errors" }, int(c.errors)),
        el("td", { class: "num", "data-stat": "queue_depth" }, int(c.queue_depth)),
        el("td", { class: "num", "data-stat": "buffer_records" }, int(c.buffer_records)),
        el(
          "td",
          { "data-stat": "health", class: c.problem === undefined ? "ok" : "bad" },
          health,
        ),
      );
    });
    byId("components").replaceChildren(...rows);
  };

  const card = (label, stat, value, title) =>
    el(
      "div",
      { class: "card", title },
      el("div", { class: "card-value", "data-stat": stat }, value),
      el("div", { class: "card-label" }, label),
    );

  const renderSink = (id, a) => {
    const used = LEVELS.filter((level) =>
      Object.values(a.service_distribution).some((levels) => levels[level] !== undefined)
    );
    const services = Object.keys(a.service_distribution).sort();
    const distribution = el(
      "table",
      { class: "grid" },
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", {}, "service"),
          ...used.map((level) => el("th", { class: `num level-${level}` }, level)),
          el("th", { class: "num" }, "total"),
          el("th", { class: "num" }, "records/s"),
        ),
      ),
      el(
        "tbody",
        {},
        ...services.map((service) => {
          const levels = a.service_distribution[service];
          const total = Object.values(levels).reduce((sum, n) => sum + n, 0);
          return el(
            "tr",
            { "data-service": service },
            el("td", {}, service),
            ...used.map((level) =>
              el("td", { class: "num", "data-level": level }, int(levels[level] ?? 0))
            ),
            el("td", { class: "num", "data-level": "total" }, int(total)),
            el("td", { class: "num", "data-stat": "rate" }, rate(a.rates[service])),
          );
        }),
      ),
    );
    const errors = el(
      "table",
      { class: "grid" },
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", {}, "time"),
          el("th", {}, "level"),
          el("th", {}, "service"),
          el("th", {}, "message"),
          el("th", {}, "trace"),
        ),
      ),
      el(
        "tbody",
        { "data-list": "recent_errors" },
        ...a.recent_errors.map((e) =>
          el(
            "tr",
            {},
            el("td", { class: "time" }, e.time.replace("T", " ").replace("Z", "")),
            el("td", { class: `level-${e.level}` }, e.level),
            el("td", {}, e.service),
            el("td", { class: "message" }, e.message),
            el("td", { class: "trace" }, e.trace_id ?? ""),
          )
        ),
      ),
    );
    const top = el(
      "table",
      { class: "grid" },
      el(
        "thead",
        {},
        el("tr", {}, el("th", { class: "num" }, "count"), el("th", {}, "message")),
      ),
      el(
        "tbody",
        { "data-list": "top_errors" },
        ...a.top_errors.map((t) =>
          el(
            "tr",
            {},
            el(
              "td",
              { class: "num", title: t.error > 0 ? `at most ${t.error} too high` : "exact" },
              t.error > 0 ? `≤${int(t.count)}` : int(t.count),
            ),
            el("td", { class: "message" }, t.message),
          )
        ),
      ),
    );
    const window = `${a.window_seconds}s`;
    return el(
      "section",
      { class: "sink", "data-sink": id },
      el("h2", {}, `Analysis: ${id}`),
      el(
        "div",
        { class: "cards" },
        card("records", "records_total", int(a.records_total)),
        card("services", "total_services", int(a.total_services)),
        card(
          `active traces (${window})`,
          "active_traces",
          `${a.active_traces_exact ? "" : "≈"}${int(a.active_traces)}`,
          a.active_traces_exact ? "exact" : "HyperLogLog estimate, standard error 0.81%",
        ),
        card(`recent errors (${window})`, "recent_errors", int(a.recent_errors.length)),
      ),
      el("h3", {}, "Records by service and level"),
      distribution,
      el(
        "div",
        { class: "columns" },
        el(
          "div",
          {},
          el("h3", {}, `Recent errors (${window})`),
          el("div", { class: "scroll" }, errors),
        ),
        el("div", {}, el("h3", {}, `Top errors (${window})`), el("div", { class: "scroll" }, top)),
      ),
    );
  };

  const renderAnalysis = (all) => {
    const ids = Object.keys(all);
    byId("no-stats").hidden = ids.length > 0;
    byId("analysis").replaceChildren(...ids.map((id) => renderSink(id, all[id])));
  };

  const updated = (time) => {
    byId("updated").textContent = `updated ${new Date(time).toLocaleTimeString("en-GB")}`;
  };

  // /stats once at load and while the live stream is down (a proxy that buffers event
  // streams still gets a page that updates).
  let polling;
  const poll = async () => {
    try {
      const res = await fetch("stats", { headers: headers(), cache: "no-store" });
      if (res.status === 401) return unauthorized();
      if (!res.ok) return;
      renderAnalysis(await res.json());
      updated(Date.now());
    } catch {
      // The server is away; the live stream's reconnect says so.
    }
  };

  // GET /live read through fetch (EventSource cannot send an Authorization header).
  let abort;
  let retry;
  const reconnect = (delay) => {
    clearTimeout(retry);
    abort?.abort();
    retry = setTimeout(connect, delay);
  };
  const handle = (name, data) => {
    if (name === "components") {
      const { time, components } = JSON.parse(data);
      renderComponents(components);
      addPoint(time, components);
      updated(time);
    } else if (name === "analysis") {
      renderAnalysis(JSON.parse(data));
    }
  };
  const connect = async () => {
    abort = new AbortController();
    let res;
    try {
      res = await fetch("live?events=components,analysis&interval=1s", {
        headers: headers(),
        signal: abort.signal,
        cache: "no-store",
      });
    } catch {
      setStatus("down", "Server unreachable; retrying");
      polling ??= setInterval(poll, 2000);
      return reconnect(2000);
    }
    if (res.status === 401) return unauthorized();
    if (!res.ok || !res.body) {
      setStatus("down", `Live stream refused (${res.status}); retrying`);
      polling ??= setInterval(poll, 2000);
      return reconnect(5000);
    }
    setStatus("live", "Live");
    clearInterval(polling);
    polling = undefined;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let name = "message";
          const data = [];
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) name = line.slice(7);
            else if (line.startsWith("data: ")) data.push(line.slice(6));
          }
          if (data.length > 0) handle(name, data.join("\n"));
        }
      }
    } catch {
      // Aborted or the connection broke: reconnect below.
    }
    setStatus("down", "Live stream ended; reconnecting");
    polling ??= setInterval(poll, 2000);
    reconnect(2000);
  };

  poll();
  connect();
}
