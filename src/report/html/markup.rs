//! HTML building blocks: escaping, table cells and tables. Everything that comes from a scenario
//! file (names, descriptions) passes through [`esc`].

use std::fmt::Write;

/// Escapes text for HTML element content and double-quoted attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A text cell.
pub(super) fn td(text: &str) -> String {
    format!("<td>{}</td>", esc(text))
}

/// A cell holding already-built markup.
pub(super) fn td_html(html: &str) -> String {
    format!("<td>{html}</td>")
}

/// A right-aligned number cell showing `shown` and carrying the exact CSV string in `data-value`.
pub(super) fn td_num(shown: &str, csv: &str) -> String {
    format!(
        "<td class=\"num\" data-value=\"{}\">{}</td>",
        esc(csv),
        esc(shown)
    )
}

/// A colour swatch followed by a label (the colour the charts give an egress IP).
pub(super) fn swatch(color: &str, label: &str) -> String {
    format!(
        "<span class=\"swatch\" style=\"background:{color}\"></span>{}",
        esc(label)
    )
}

/// Rows up to which a table is printed on one page.
const SHORT_TABLE_ROWS: usize = 16;

/// A table with a caption; header names starting with `#` are numeric (right-aligned), the `#` is
/// not shown. `rows` are the `<td>` cells of each row, already built.
///
/// A table of at most [`SHORT_TABLE_ROWS`] rows is printed on one page (moved whole to the next
/// one rather than split); a longer one may split between rows and repeats its header.
pub(super) fn table(class: &str, caption: &str, header: &[&str], rows: &[Vec<String>]) -> String {
    let keep = if rows.len() <= SHORT_TABLE_ROWS {
        " keep"
    } else {
        ""
    };
    let mut s = format!("<div class=\"table-wrap{keep}\"><table class=\"{class}\">");
    if !caption.is_empty() {
        let _ = write!(s, "<caption>{}</caption>", esc(caption));
    }
    s.push_str("<thead><tr>");
    for h in header {
        match h.strip_prefix('#') {
            Some(n) => {
                let _ = write!(s, "<th class=\"num\" scope=\"col\">{}</th>", esc(n));
            }
            None => {
                let _ = write!(s, "<th scope=\"col\">{}</th>", esc(h));
            }
        }
    }
    s.push_str("</tr></thead><tbody>");
    for r in rows {
        s.push_str("<tr>");
        for c in r {
            s.push_str(c);
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table></div>");
    s
}

/// A chart figure: the inline SVG with a caption under it.
pub(super) fn figure(svg: &str, caption: &str) -> String {
    format!(
        "<figure class=\"chart\">{}<figcaption>{}</figcaption></figure>",
        clean_svg(svg),
        esc(caption)
    )
}

/// Strips an XML prolog so the SVG can sit inside HTML.
fn clean_svg(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

/// Escaped text with its `code` spans (paired backticks, as the findings and the scenario's
/// names are written) as `<code>` elements; an unpaired backtick stays as it is.
pub(crate) fn esc_code(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    // Pieces at odd positions are inside backticks; a last odd piece has no closing one.
    let paired = if parts.len() % 2 == 0 {
        parts.len() - 1
    } else {
        parts.len()
    };
    let mut out = String::with_capacity(text.len() + 16);
    for (i, part) in parts.iter().enumerate() {
        if i % 2 == 1 && i < paired {
            let _ = write!(out, "<code>{}</code>", esc(part));
        } else {
            if i % 2 == 1 {
                out.push('`');
            }
            out.push_str(&esc(part));
        }
    }
    out
}

/// A paragraph of plain text (`code` spans rendered).
pub(super) fn p(text: &str) -> String {
    format!("<p>{}</p>", esc_code(text))
}

/// A section with an id, a numbered heading and its body.
pub(super) fn section(id: &str, title: &str, body: &str) -> String {
    format!(
        "<section id=\"{id}\"><h2>{}</h2>\n{body}\n</section>\n",
        esc(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn code_spans_become_code_elements() {
        assert_eq!(
            esc_code("policy `a<b>` falls back to `0.0.0.0`"),
            "policy <code>a&lt;b&gt;</code> falls back to <code>0.0.0.0</code>"
        );
        assert_eq!(esc_code("no code"), "no code");
        assert_eq!(esc_code("one ` stray"), "one ` stray");
        assert_eq!(esc_code("`a` and ` b"), "<code>a</code> and ` b");
    }

    #[test]
    fn numeric_headers_are_marked() {
        let t = table(
            "t",
            "",
            &["name", "#count"],
            &[vec![td("a"), td_num("1", "1")]],
        );
        assert!(t.contains("<th class=\"num\" scope=\"col\">count</th>"));
        assert!(t.contains("data-value=\"1\""));
    }
}
