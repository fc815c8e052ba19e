//! The report's stylesheet: system fonts only, readable tables, and a print layout.

/// Inline CSS of `report.html`.
pub(super) const CSS: &str = r#"
:root { --ink:#212121; --muted:#5a5a5a; --line:#dedede; --band:#f6f7f9; --accent:#0072b2; --alert:#d55e00; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 28px 32px 48px; }
h1 { font-size: 30px; line-height: 1.2; margin: 0 0 6px; }
h2 { font-size: 22px; margin: 0 0 14px; padding-bottom: 6px; border-bottom: 2px solid var(--ink); }
h3 { font-size: 16px; margin: 22px 0 8px; }
p { margin: 8px 0 14px; max-width: 90ch; }
section { margin-top: 40px; }
.kicker { text-transform: uppercase; letter-spacing: .08em; font-size: 12px; color: var(--muted); margin: 0 0 4px; }
.lede { font-size: 16px; color: #333; margin: 0 0 10px; }
.meta { display: flex; flex-wrap: wrap; gap: 6px 18px; color: var(--muted); font-size: 14px; margin: 0 0 18px; }
.meta b { color: var(--ink); }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; }
.kpi { border: 1px solid var(--line); border-top: 4px solid var(--accent); border-radius: 6px; padding: 12px 14px; background: var(--band); break-inside: avoid; }
.kpi.alert { border-top-color: var(--alert); }
.kpi-value { font-size: 28px; font-weight: 700; line-height: 1.15; font-variant-numeric: tabular-nums; }
.kpi-label { font-weight: 600; margin-top: 2px; }
.kpi-note { color: var(--muted); font-size: 13px; margin-top: 4px; overflow-wrap: anywhere; }
nav.toc { margin: 22px 0 0; padding: 10px 14px; border: 1px solid var(--line); border-radius: 6px; }
nav.toc ol { margin: 0; padding: 0; list-style: none; display: flex; flex-wrap: wrap; gap: 4px 20px; counter-reset: toc 1; }
nav.toc li { counter-increment: toc; }
nav.toc li::before { content: counter(toc) ". "; color: var(--muted); }
nav.toc a { color: var(--accent); text-decoration: none; }
.table-wrap { overflow-x: auto; margin: 10px 0 18px; }
table { border-collapse: collapse; font-size: 13.5px; min-width: 50%; }
caption { text-align: left; font-weight: 600; padding: 0 0 6px; color: #333; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--band); font-weight: 600; border-bottom: 1px solid #bbb; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; white-space: nowrap; }
td.over { color: var(--alert); font-weight: 700; }
td.detail { min-width: 240px; max-width: 460px; }
section#failover table.worst td.detail { min-width: 220px; }
th.num { white-space: normal; }
section#failover table.worst th.num { min-width: 70px; }
table.policies th, table.policies td { padding: 5px 6px; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .9em; background: #eef0f3; border-radius: 3px; padding: 0 3px; overflow-wrap: anywhere; }
tbody tr:nth-child(even) td { background: #fbfbfc; }
.sub { color: var(--muted); font-size: 12px; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 7px; vertical-align: -1px; border: 1px solid rgba(0,0,0,.25); }
.sev { display: inline-block; min-width: 58px; text-align: center; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 700; color: #fff; }
.sev-high { background: #d55e00; }
.sev-medium { background: #e69f00; color: #212121; }
.sev-low { background: #0072b2; }
.sev-info { background: #9e9e9e; }
figure.chart { margin: 14px 0 22px; break-inside: avoid; }
figure.chart svg { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 6px; }
ul.semantics li { margin-bottom: 6px; max-width: 110ch; }
footer { margin-top: 48px; padding-top: 10px; border-top: 1px solid var(--line); color: var(--muted); font-size: 13px; }
@media print {
  @page { size: A4 landscape; margin: 12mm; }
  body { font-size: 11px; }
  main { max-width: none; padding: 0; }
  nav.toc { display: none; }
  section { break-before: page; margin-top: 0; }
  h2, h3, caption, p:has(+ .table-wrap) { break-after: avoid; }
  .table-wrap { overflow: visible; }
  .table-wrap.keep { break-inside: avoid; }
  table { font-size: 10px; }
  thead { display: table-header-group; }
  tbody tr:first-child { break-before: avoid; }
  tr, figure.chart, .kpi { break-inside: avoid; }
  .sub, code { font-size: 9px; }
  figure.chart svg { max-height: 170mm; width: auto; max-width: 100%; }
}
"#;
