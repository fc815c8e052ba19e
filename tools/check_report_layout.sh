#!/bin/sh
# Checks report.html files in headless Chromium at a window width (default 1,400 px): every table
# must fit its section (no horizontal scrolling) and the page must not scroll sideways. Prints one
# line per table (its section, class, column count, widths) and exits 1 when one does not fit.
#
#   tools/check_report_layout.sh output/three-sites/report.html [more reports...]
#   WIDTH=1200 CHROMIUM=/usr/bin/chromium tools/check_report_layout.sh report.html
#
# A developer check (it needs Chromium), not part of `cargo test`; see docs/report-layout.md.
set -eu
CHROMIUM=${CHROMIUM:-chromium}
WIDTH=${WIDTH:-1400}
status=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for report in "$@"; do
  # The measuring script runs after load and writes its findings into the page, which
  # --dump-dom then prints.
  sed 's#</body>#<script>window.addEventListener("load",function(){var o=[];document.querySelectorAll(".table-wrap").forEach(function(w){var t=w.querySelector("table"),s=w.closest("section");o.push((w.scrollWidth>w.clientWidth?"CUT ":"ok  ")+(s?s.id:"-")+" table."+t.className+" cols="+t.rows[0].cells.length+" table="+t.offsetWidth+"px wrap="+w.clientWidth+"px")});var d=document.documentElement;o.push((d.scrollWidth>window.innerWidth?"CUT ":"ok  ")+"page "+d.scrollWidth+"px in a "+window.innerWidth+"px window");var p=document.createElement("pre");p.id="layout-check";p.textContent=o.join("\\n");document.body.appendChild(p)})</script></body>#' \
    "$report" > "$tmp/report.html"
  out=$("$CHROMIUM" --headless --no-sandbox --disable-gpu --window-size="$WIDTH",2000 \
    --virtual-time-budget=3000 --dump-dom "file://$tmp/report.html" 2>/dev/null \
    | sed -n '/<pre id="layout-check">/,/<\/pre>/p' | sed 's/<[^>]*>//g')
  if [ -z "$out" ]; then
    echo "$report: Chromium printed no measurements" >&2
    exit 2
  fi
  echo "$report:"
  echo "$out" | sed 's/^/  /'
  if echo "$out" | grep -q '^CUT'; then status=1; fi
done
exit $status
