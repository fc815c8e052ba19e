//! "Did you mean …?" suggestions and the accent-folded search key used for name matching.
//!
//! Every "unknown key / id / name" error goes through [`closest`] or [`did_you_mean`], so the rules live
//! in one place: case-insensitive Levenshtein distance, accepted only when it is small relative to the
//! query (at most `max(1, chars / 3)` edits), ties going to the earliest candidate so that callers can
//! order candidates by preference (for example most populous city first).

/// Index (in iteration order) of the candidate closest to `query`, or `None` when nothing is close
/// enough. Comparison ignores case; ties go to the first candidate.
pub fn closest_index<'a, I>(query: &str, candidates: I) -> Option<usize>
where
    I: IntoIterator<Item = &'a str>,
{
    let query: Vec<char> = query.trim().chars().flat_map(char::to_lowercase).collect();
    let limit = max_distance(query.len());
    let mut best: Option<(usize, usize)> = None;
    let mut scratch = Vec::new();
    let mut candidate = Vec::new();
    for (index, text) in candidates.into_iter().enumerate() {
        candidate.clear();
        candidate.extend(text.chars().flat_map(char::to_lowercase));
        let bound = best.map_or(limit, |(_, d)| d.saturating_sub(1));
        // Length difference is a lower bound on the edit distance: skip hopeless candidates cheaply.
        if candidate.len().abs_diff(query.len()) > bound {
            continue;
        }
        let distance = levenshtein(&query, &candidate, &mut scratch);
        if distance <= bound {
            best = Some((index, distance));
            if distance == 0 {
                break;
            }
        }
    }
    best.map(|(index, _)| index)
}

/// The candidate closest to `query` (see [`closest_index`] for the rules), or `None`.
pub fn closest<'a, I>(query: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
    closest_index(query, candidates.iter().copied()).map(|i| candidates[i])
}

/// `"; did you mean `x`?"` when a candidate is close to `query`, otherwise the empty string. Meant to be
/// appended to an "unknown …" error message.
pub fn did_you_mean<'a, I>(query: &str, candidates: I) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    closest(query, candidates).map_or_else(String::new, |c| format!("; did you mean `{c}`?"))
}

/// Largest edit distance still worth suggesting for a query of `chars` characters: one typo in short
/// words, roughly one in three characters in longer ones (beyond that suggestions look random).
fn max_distance(chars: usize) -> usize {
    (chars / 3).max(1)
}

/// Levenshtein distance with a single reusable row.
/// Edit distance counting an adjacent transposition as one edit (optimal string alignment), since
/// swapped letters (`usres`) are the most common typo in keys and codes.
fn levenshtein(a: &[char], b: &[char], row: &mut Vec<usize>) -> usize {
    let w = b.len() + 1;
    row.clear();
    row.resize(3 * w, 0);
    let (mut prev2, mut prev, mut cur) = (0, w, 2 * w);
    for (j, cell) in row[prev..prev + w].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        row[cur] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (row[prev + j] + 1)
                .min(row[cur + j - 1] + 1)
                .min(row[prev + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(row[prev2 + j - 2] + 1);
            }
            row[cur + j] = d;
        }
        (prev2, prev, cur) = (prev, cur, prev2);
    }
    row[prev + b.len()]
}

/// Lower-case, accent-folded form of `text` for case- and accent-insensitive matching: "São Paulo" and
/// "SAO PAULO" both give "sao paulo", "Łódź" gives "lodz".
///
/// Mirrors `search_key` in `tools/derive_data.py`, which fills the `ascii_name` column of
/// `data/cities.csv`: Unicode NFKD without combining marks, plus a few letters Unicode does not
/// decompose (ł, ø, ß, æ, …). Rust's standard library has no normalisation tables, so the Latin letters
/// with diacritics are folded by the table below; other scripts pass through lower-cased.
pub fn search_key(text: &str) -> String {
    let mut key = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii() {
            key.push(c);
        } else if ('\u{300}'..='\u{36f}').contains(&c) {
            // Combining diacritical marks (decomposed input): dropped, as NFKD folding does.
        } else if let Some(folded) = fold_latin(c) {
            key.push_str(folded);
        } else {
            key.push(c);
        }
    }
    key
}

/// ASCII replacement for a lower-case Latin letter with diacritics (generated from Python's
/// `unicodedata` over Latin-1 Supplement, Latin Extended-A/B and Latin Extended Additional).
fn fold_latin(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' | 'ǎ' | 'ǟ' | 'ǡ' | 'ǻ' | 'ȁ' | 'ȃ'
        | 'ȧ' | 'ḁ' | 'ạ' | 'ả' | 'ấ' | 'ầ' | 'ẩ' | 'ẫ' | 'ậ' | 'ắ' | 'ằ' | 'ẳ' | 'ẵ' | 'ặ' => {
            "a"
        }
        'æ' | 'ǣ' | 'ǽ' => "ae",
        'ḃ' | 'ḅ' | 'ḇ' => "b",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' | 'ḉ' => "c",
        'ð' | 'ď' | 'đ' | 'ḋ' | 'ḍ' | 'ḏ' | 'ḑ' | 'ḓ' => "d",
        'ǆ' | 'ǳ' => "dz",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' | 'ȅ' | 'ȇ' | 'ȩ' | 'ḕ' | 'ḗ' | 'ḙ'
        | 'ḛ' | 'ḝ' | 'ẹ' | 'ẻ' | 'ẽ' | 'ế' | 'ề' | 'ể' | 'ễ' | 'ệ' | 'ə' => {
            "e"
        }
        'ḟ' => "f",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' | 'ǧ' | 'ǵ' | 'ḡ' => "g",
        'ĥ' | 'ħ' | 'ȟ' | 'ḣ' | 'ḥ' | 'ḧ' | 'ḩ' | 'ḫ' | 'ẖ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' | 'ǐ' | 'ȉ' | 'ȋ' | 'ḭ' | 'ḯ' | 'ỉ'
        | 'ị' => "i",
        'ĳ' => "ij",
        'ĵ' | 'ǰ' => "j",
        'ķ' | 'ǩ' | 'ḱ' | 'ḳ' | 'ḵ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ł' | 'ḷ' | 'ḹ' | 'ḻ' | 'ḽ' => "l",
        'ǉ' => "lj",
        'ḿ' | 'ṁ' | 'ṃ' => "m",
        'ñ' | 'ń' | 'ņ' | 'ň' | 'ǹ' | 'ṅ' | 'ṇ' | 'ṉ' | 'ṋ' => "n",
        'ǌ' => "nj",
        'ŉ' => "'n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' | 'ơ' | 'ǒ' | 'ǫ' | 'ǭ' | 'ǿ' | 'ȍ'
        | 'ȏ' | 'ȫ' | 'ȭ' | 'ȯ' | 'ȱ' | 'ṍ' | 'ṏ' | 'ṑ' | 'ṓ' | 'ọ' | 'ỏ' | 'ố' | 'ồ' | 'ổ'
        | 'ỗ' | 'ộ' | 'ớ' | 'ờ' | 'ở' | 'ỡ' | 'ợ' => "o",
        'œ' => "oe",
        'ṕ' | 'ṗ' => "p",
        'ŕ' | 'ŗ' | 'ř' | 'ȑ' | 'ȓ' | 'ṙ' | 'ṛ' | 'ṝ' | 'ṟ' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ſ' | 'ș' | 'ṡ' | 'ṣ' | 'ṥ' | 'ṧ' | 'ṩ' | 'ẛ' => {
            "s"
        }
        'ß' => "ss",
        'ţ' | 'ť' | 'ț' | 'ṫ' | 'ṭ' | 'ṯ' | 'ṱ' | 'ẗ' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' | 'ư' | 'ǔ' | 'ǖ' | 'ǘ' | 'ǚ'
        | 'ǜ' | 'ȕ' | 'ȗ' | 'ṳ' | 'ṵ' | 'ṷ' | 'ṹ' | 'ṻ' | 'ụ' | 'ủ' | 'ứ' | 'ừ' | 'ử' | 'ữ'
        | 'ự' => "u",
        'ṽ' | 'ṿ' => "v",
        'ŵ' | 'ẁ' | 'ẃ' | 'ẅ' | 'ẇ' | 'ẉ' | 'ẘ' => "w",
        'ẋ' | 'ẍ' => "x",
        'ý' | 'ÿ' | 'ŷ' | 'ȳ' | 'ẏ' | 'ẙ' | 'ỳ' | 'ỵ' | 'ỷ' | 'ỹ' => "y",
        'ź' | 'ż' | 'ž' | 'ẑ' | 'ẓ' | 'ẕ' => "z",
        'ʻ' | 'ʼ' | '‘' | '’' => "'",
        '–' | '—' => "-",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODES: [&str; 5] = ["LHR", "AMS", "IAD", "LOS", "CDG"];

    #[test]
    fn finds_single_typo_case_insensitively() {
        assert_eq!(closest("lhx", CODES), Some("LHR"));
        assert_eq!(closest("ams", CODES), Some("AMS"));
        assert_eq!(
            closest("Amsterdm", ["Amsterdam", "Rotterdam"]),
            Some("Amsterdam")
        );
    }

    #[test]
    fn rejects_distant_queries() {
        assert_eq!(closest("XYZ", CODES), None);
        assert_eq!(closest("", CODES), None);
        assert_eq!(closest("anything", std::iter::empty::<&str>()), None);
        // "London" is 3 edits from "LON": too many for a 3-letter query.
        assert_eq!(closest("LON", ["London"]), None);
    }

    #[test]
    fn ties_go_to_the_first_candidate() {
        assert_eq!(closest("LAX", ["LAS", "LAD", "LAX2"]), Some("LAS"));
        assert_eq!(
            closest_index("lad", ["LAS", "LAD"]),
            Some(1),
            "exact beats earlier near miss"
        );
    }

    #[test]
    fn threshold_grows_with_query_length() {
        assert_eq!(max_distance(2), 1);
        assert_eq!(max_distance(9), 3);
        assert_eq!(closest("Frnkfrt", ["Frankfurt"]), Some("Frankfurt"));
        assert_eq!(closest("Frnkft", ["Frankfurt"]), None);
    }

    #[test]
    fn did_you_mean_formats_or_stays_empty() {
        assert_eq!(did_you_mean("lhx", CODES), "; did you mean `LHR`?");
        assert_eq!(did_you_mean("qqqq", CODES), "");
    }

    #[test]
    fn levenshtein_known_values() {
        let d = |a: &str, b: &str| {
            let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
            levenshtein(&a, &b, &mut Vec::new())
        };
        assert_eq!(d("kitten", "sitting"), 3);
        assert_eq!(d("", "abc"), 3);
        assert_eq!(d("abc", ""), 3);
        assert_eq!(d("même", "meme"), 1);
        assert_eq!(d("usres", "users"), 1);
        assert_eq!(d("ca", "abc"), 3);
    }

    #[test]
    fn search_key_folds_case_and_accents() {
        assert_eq!(search_key("São Paulo"), "sao paulo");
        assert_eq!(search_key("SAO PAULO"), "sao paulo");
        assert_eq!(search_key("Łódź"), "lodz");
        assert_eq!(search_key("Düsseldorf"), "dusseldorf");
        assert_eq!(search_key("Straße"), "strasse");
        assert_eq!(search_key("İstanbul"), "istanbul");
        assert_eq!(
            search_key("Ho Chi Minh City – Quận 1"),
            "ho chi minh city - quan 1"
        );
        // Decomposed input (a + combining tilde) folds the same way as the precomposed letter.
        assert_eq!(search_key("Sa\u{303}o"), "sao");
        assert_eq!(search_key("Москва"), "москва");
    }
}
