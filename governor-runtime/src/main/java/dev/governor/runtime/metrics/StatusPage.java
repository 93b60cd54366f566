package dev.governor.runtime.metrics;

import dev.governor.Governor;
import dev.governor.runtime.GovernorHooks;
import dev.governor.runtime.internal.Json;
import dev.governor.runtime.internal.StatusJson;

/**
 * {@code /status.json} (the live tree as JSON) and {@code /status} (an HTML page that renders it
 * and refreshes it in place). Pools are shown as one row with counts per state; past
 * {@link #MAX_NODES} listed nodes the rest is cut (and said so), so the page stays small.
 */
final class StatusPage {
    static final int MAX_NODES = 5_000;

    private StatusPage() {}

    /** The status document of {@code tree} (see {@link StatusJson}), pools folded, at most {@link #MAX_NODES} nodes listed. */
    static String json(Governor governor, GovernorHooks hooks, TreeSnapshot tree) {
        return Json.write(StatusJson.document(
                governor, hooks, tree.nodes().values(), tree.pools(), tree.at(), tree.total(), MAX_NODES));
    }

    /** The page: static markup, rendered from {@code status.json} by the script, refreshed every second. */
    static String html(String title) {
        StringBuilder t = new StringBuilder();
        for (char c : title.toCharArray()) {
            switch (c) {
                case '<' -> t.append("&lt;");
                case '>' -> t.append("&gt;");
                case '&' -> t.append("&amp;");
                case '"' -> t.append("&quot;");
                default -> t.append(c);
            }
        }
        return PAGE.replace("@TITLE@", t);
    }

    private static final String PAGE = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>@TITLE@</title>
            <style>
            body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1b1f24; }
            h1 { font-size: 1.3em; margin: 0 0 .3em; }
            #summary { margin-bottom: 1em; }
            .badge { display: inline-block; padding: .1em .6em; border-radius: .8em; color: #fff; font-weight: 600; margin-right: .4em; }
            .ok { background: #1a7f37; } .bad { background: #cf222e; } .warn { background: #bf8700; } .off { background: #6e7781; }
            table { border-collapse: collapse; min-width: 60em; }
            th, td { text-align: left; padding: .3em .8em; border-bottom: 1px solid #d0d7de; vertical-align: top; }
            th { background: #f6f8fa; }
            td.name { font-family: ui-monospace, monospace; white-space: pre; }
            td.num { text-align: right; font-variant-numeric: tabular-nums; }
            td.failure { font-family: ui-monospace, monospace; color: #cf222e; max-width: 40em; overflow-wrap: anywhere; }
            .state-RUNNING { color: #1a7f37; font-weight: 600; } .state-FAILED { color: #cf222e; font-weight: 600; }
            .state-RESTARTING, .state-STARTING, .state-STOPPING { color: #bf8700; font-weight: 600; }
            .state-STOPPED, .state-NEW { color: #6e7781; }
            #updated { color: #6e7781; font-size: .9em; }
            </style>
            </head>
            <body>
            <h1>@TITLE@</h1>
            <div id="summary">loading…</div>
            <table id="tree">
            <thead><tr><th>service</th><th>state</th><th>ready</th><th>restarts</th><th>uptime</th><th>last failure</th></tr></thead>
            <tbody></tbody>
            </table>
            <p id="updated"></p>
            <script>
            "use strict";
            const body = document.querySelector("#tree tbody");
            let refreshes = 0;
            function cell(row, text, cls) {
              const td = row.insertCell();
              td.textContent = text;
              if (cls) td.className = cls;
              return td;
            }
            function badge(parent, text, cls) {
              const b = document.createElement("span");
              b.className = "badge " + cls;
              b.textContent = text;
              parent.appendChild(b);
            }
            function duration(s) {
              if (s < 60) return s + "s";
              if (s < 3600) return Math.floor(s / 60) + "m " + (s % 60) + "s";
              if (s < 86400) return Math.floor(s / 3600) + "h " + Math.floor(s % 3600 / 60) + "m";
              return Math.floor(s / 86400) + "d " + Math.floor(s % 86400 / 3600) + "h";
            }
            function render(tree) {
              const summary = document.getElementById("summary");
              summary.replaceChildren();
              badge(summary, tree.healthy ? "healthy" : "unhealthy", tree.healthy ? "ok" : "bad");
              badge(summary, tree.stopping ? "shutting down" : tree.ready ? "ready" : "not ready",
                    tree.stopping ? "warn" : tree.ready ? "ok" : "warn");
              summary.appendChild(document.createTextNode(tree.total + " nodes: " + tree.summary));
              const rows = document.createDocumentFragment();
              for (const n of tree.services) {
                const row = document.createElement("tr");
                row.dataset.service = n.name;
                row.dataset.state = n.state;
                const leaf = n.name.substring(n.name.lastIndexOf("/") + 1);
                cell(row, "  ".repeat(n.depth) + (n.supervisor ? "▾ " : "• ") + leaf, "name").title = n.name;
                let state = n.state;
                if (n.pool) {
                  state += " — pool: " + Object.entries(n.pool).map(([s, c]) => c.toLocaleString("en") + " " + s.toLowerCase()).join(", ");
                }
                cell(row, state, "state-" + n.state);
                cell(row, n.ready ? "yes" : "no");
                cell(row, String(n.restarts), "num");
                cell(row, n.state === "RUNNING" || n.state === "STOPPING" ? duration(n.uptimeSeconds) : "—", "num");
                cell(row, n.lastFailure || "", "failure");
                rows.appendChild(row);
              }
              if (tree.truncated > 0) {
                const row = document.createElement("tr");
                cell(row, "… " + tree.truncated + " more not listed").colSpan = 6;
                rows.appendChild(row);
              }
              body.replaceChildren(rows);
              refreshes++;
              document.body.dataset.refreshes = String(refreshes);
              document.getElementById("updated").textContent = "updated " + tree.at + " (refresh " + refreshes + ")";
            }
            async function refresh() {
              try {
                const response = await fetch("status.json", { cache: "no-store" });
                render(await response.json());
              } catch (e) {
                document.getElementById("updated").textContent = "cannot reach the governor: " + e;
              } finally {
                setTimeout(refresh, 1000);
              }
            }
            refresh();
            </script>
            </body>
            </html>
            """;
}
